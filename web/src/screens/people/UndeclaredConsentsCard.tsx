import { Card, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMyPurposes } from '../../api/auth.js';
import { api } from '../../api/client.js';
import { formatMoment } from '../../ui/dates.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';

interface ConsentRecord {
  recordId: number;
  purpose: string | null;
  event: 'signed_up' | 'given' | 'withdrawn' | 'objected' | 'objected_marketing';
  channel: string;
  recordedAt: string;
  policyVersion: string;
  statement: string | null;
}

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
          <Table>
            <Table.Caption>{t('undeclaredConsents.caption')}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('undeclaredConsents.purpose')}</Table.Th>
                <Table.Th>{t('consents.when')}</Table.Th>
                <Table.Th>{t('consents.event')}</Table.Th>
                <Table.Th>{t('consents.channel')}</Table.Th>
                <Table.Th>{t('consents.statement')}</Table.Th>
                <Table.Th>{t('consents.version')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {ledger.data.map((entry) => (
                <Table.Tr key={entry.recordId} data-testid={`undeclared-consent-${entry.recordId}`}>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {entry.purpose}
                    </Text>
                    {/* Words, not a badge: a narrow column cuts a badge short. */}
                    <Text size="xs" fw={700} c="red.9">
                      {t('undeclaredConsents.notDeclared')}
                    </Text>
                  </Table.Td>
                  <Table.Td>{formatMoment(entry.recordedAt)}</Table.Td>
                  <Table.Td>{t(`consentEvent.${entry.event}`)}</Table.Td>
                  <Table.Td>{t(`consentChannel.${entry.channel}`, { defaultValue: entry.channel })}</Table.Td>
                  <Table.Td>{entry.statement ?? '—'}</Table.Td>
                  <Table.Td>{entry.policyVersion}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
      </Stack>
    </Card>
  );
}
