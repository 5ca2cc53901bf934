import { Stack, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { BillingSettings } from '../billing/PaymentsAndSettings.js';

/** The administrator's settings of the tenant: the billing settings (payee account, terms). */
export function SettingsPage() {
  const { t } = useTranslation();
  return (
    <Stack>
      <Title order={1}>{t('nav.settings')}</Title>
      <BillingSettings />
    </Stack>
  );
}
