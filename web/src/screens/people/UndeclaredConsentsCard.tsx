import { Card, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { ConsentLedgerTable, type ConsentRecord } from './ConsentLedgerTable.js';

/** The purpose the server reads these records under: the policy's rights purpose. */
const RIGHTS_PURPOSE = 'rights_requests';

/**
 * The consent records of purposes the policy in force no longer declares (decision 0982, 1041):
 * shown to the roles that hold the rights purpose, read under it, each purpose labelled as no
 * longer in the policy (it has no label of the policy left; its key is what was recorded).
 */
export function UndeclaredConsentsCard({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const purposes = useMyPurposes();
  const allowed = purposes.data?.purposes.some((purpose) => purpose.key === RIGHTS_PURPOSE) ?? false;
  const ledger = useQuery({
    queryKey: ['consents', subjectId, 'undeclared'],
    enabled: allowed,
    queryFn: async () =>
      (
        await api<{ items: ConsentRecord[] }>(
          'GET',
          `/api/v1/people/${subjectId}/consents/undeclared-purposes`,
          { purpose: RIGHTS_PURPOSE },
        )
      ).items,
  });
  if (!allowed) return null;
  if (!ledger.error && (ledger.data?.length ?? 0) === 0) return null;
  return (
    <Card withBorder data-testid="undeclared-consents">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('undeclaredConsents.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('undeclaredConsents.intro')}
        </Text>
        {ledger.error ? <ProblemAlert error={ledger.error} /> : null}
        {ledger.data && ledger.data.length > 0 ? (
          <ConsentLedgerTable
            entries={ledger.data}
            caption={t('undeclaredConsents.caption')}
            rowTestId="undeclared-consent-"
            undeclaredPurpose
          />
        ) : null}
      </Stack>
    </Card>
  );
}
