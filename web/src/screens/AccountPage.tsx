import { Button, Card, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { MfaEnrolment } from '../auth/MfaEnrolPage.js';
import { PasswordForm } from '../auth/PasswordChangePage.js';

/** One's own account: a new password, a new authenticator (with new recovery codes). */
export function AccountPage() {
  const { t } = useTranslation();
  const [enrolling, setEnrolling] = useState(false);
  const [changing, setChanging] = useState(false);
  return (
    <Stack maw={560}>
      <Title order={1}>{t('account.title')}</Title>
      <Card withBorder>
        <Stack>
          <Title order={2} size="h4">
            {t('password.title')}
          </Title>
          {changing ? (
            <PasswordForm onDone={() => setChanging(false)} />
          ) : (
            <Button variant="default" onClick={() => setChanging(true)}>
              {t('account.changePassword')}
            </Button>
          )}
        </Stack>
      </Card>
      <Card withBorder>
        <Stack>
          <Title order={2} size="h4">
            {t('mfa.enrolTitle')}
          </Title>
          <Text size="sm">{t('account.mfaText')}</Text>
          {enrolling ? (
            <MfaEnrolment onDone={() => setEnrolling(false)} />
          ) : (
            <Button variant="default" onClick={() => setEnrolling(true)}>
              {t('account.newAuthenticator')}
            </Button>
          )}
        </Stack>
      </Card>
    </Stack>
  );
}
