import { Table, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { formatMoment } from '../../ui/dates.js';

/** One record of a person's consent ledger as the API answers it. */
export interface ConsentRecord {
  recordId: number;
  purpose: string | null;
  event: 'signed_up' | 'given' | 'withdrawn' | 'objected' | 'objected_marketing';
  channel: string;
  recordedAt: string;
  policyVersion: string;
  statement: string | null;
}

/**
 * A consent ledger as a table, its moments in Brussels time. `undeclaredPurpose`: each record's
 * purpose key is shown first, marked as no longer in the policy (decision 1041).
 */
export function ConsentLedgerTable({
  entries,
  caption,
  rowTestId,
  undeclaredPurpose = false,
}: {
  entries: readonly ConsentRecord[];
  caption: string;
  /** The row's test id: its prefix, then the record's id. */
  rowTestId: string;
  undeclaredPurpose?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Table>
      <Table.Caption>{caption}</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          {undeclaredPurpose ? <Table.Th>{t('undeclaredConsents.purpose')}</Table.Th> : null}
          <Table.Th>{t('consents.when')}</Table.Th>
          <Table.Th>{t('consents.event')}</Table.Th>
          <Table.Th>{t('consents.channel')}</Table.Th>
          <Table.Th>{t('consents.statement')}</Table.Th>
          <Table.Th>{t('consents.version')}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {entries.map((entry) => (
          <Table.Tr key={entry.recordId} data-testid={`${rowTestId}${entry.recordId}`}>
            {undeclaredPurpose ? (
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {entry.purpose}
                </Text>
                {/* Words, not a badge: a narrow column cuts a badge short. */}
                <Text size="xs" fw={700} c="red.9">
                  {t('undeclaredConsents.notDeclared')}
                </Text>
              </Table.Td>
            ) : null}
            <Table.Td>{formatMoment(entry.recordedAt)}</Table.Td>
            <Table.Td>
              {/* Words, not a badge: the narrower table of dropped purposes cut a badge short. */}
              <Text size="sm" fw={700} c={entry.event === 'given' ? 'teal.9' : 'gray.7'}>
                {t(`consentEvent.${entry.event}`)}
              </Text>
            </Table.Td>
            <Table.Td>{t(`consentChannel.${entry.channel}`, { defaultValue: entry.channel })}</Table.Td>
            <Table.Td>{entry.statement ?? '—'}</Table.Td>
            <Table.Td>{entry.policyVersion}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
