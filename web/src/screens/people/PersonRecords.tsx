import { Badge, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { PurposePicker, useScreenPurpose } from '../../purposes/usePurpose.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { euros, type Contract } from '../sales/api.js';

interface InvoiceRow {
  invoiceId: number;
  invoiceNumber: string;
  kind: 'invoice' | 'credit_note';
  issueDate: string;
  totalInclVatCents: number;
  status: string;
}

interface PersonListCardProps<Row> {
  subjectId: number;
  /**
   * The screen whose purpose the list is read under; the card shows only when the role has one,
   * and where several fit, asks which before it reads (decision 1280).
   */
  screen: Parameters<typeof useScreenPurpose>[0];
  path: string;
  testId: string;
  title: string;
  caption: string;
  headers: readonly string[];
  rowKey: (row: Row) => number;
  cells: (row: Row) => readonly ReactNode[];
}

/** One of a person's lists (contracts, invoices) as a card: read under its screen's purpose, at most 100 rows. */
function PersonListCard<Row>(props: PersonListCardProps<Row>) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose(props.screen);
  const rows = useQuery({
    queryKey: [props.path, 'person', props.subjectId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: Row[] }>('GET', props.path, {
          purpose: purpose.purpose,
          query: { subjectId: props.subjectId, limit: 100 },
        })
      ).items,
  });
  if (purpose.purpose === undefined && !purpose.mustChoose) return null;
  return (
    <Card withBorder data-testid={props.testId}>
      <Stack gap="xs">
        <Title order={2} size="h4">
          {props.title}
        </Title>
        {purpose.mustChoose ? <PurposePicker state={purpose} /> : null}
        {rows.error ? <ProblemAlert error={rows.error} /> : null}
        {rows.data && rows.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('common.noRows')}
          </Text>
        ) : null}
        {rows.data && rows.data.length > 0 ? (
          <Table>
            <Table.Caption>{props.caption}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                {props.headers.map((header) => (
                  <Table.Th key={header}>{header}</Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.data.map((row) => (
                <Table.Tr key={props.rowKey(row)}>
                  {props.cells(row).map((cell, index) => (
                    <Table.Td key={index}>{cell}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
      </Stack>
    </Card>
  );
}

/** A person's contracts, under the role's purpose for contracts (shown only when one fits). */
export function PersonContracts({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  return (
    <PersonListCard<Contract>
      subjectId={subjectId}
      screen="contracts"
      path="/api/v1/contracts"
      testId="person-contracts"
      title={t('personRecords.contracts')}
      caption={t('personRecords.contractsCaption')}
      headers={['#', t('personRecords.products'), t('personRecords.start'), t('personRecords.status')]}
      rowKey={(contract) => contract.contractId}
      cells={(contract) => [
        contract.contractId,
        contract.lines.map((line) => line.productName ?? line.productCode).join(', '),
        contract.startDate,
        <Badge color={contract.status === 'active' ? 'teal.9' : 'gray.7'} tt="none">
          {t(`salesStatus.${contract.status}`, { defaultValue: contract.status })}
        </Badge>,
      ]}
    />
  );
}

/** A person's invoices and credit notes, under the role's billing purpose (shown only when one fits). */
export function PersonInvoices({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  return (
    <PersonListCard<InvoiceRow>
      subjectId={subjectId}
      screen="billing"
      path="/api/v1/invoices"
      testId="person-invoices"
      title={t('personRecords.invoices')}
      caption={t('personRecords.invoicesCaption')}
      headers={[t('billing.number'), t('billing.issueDate'), t('billing.totalIncl'), t('billing.status')]}
      rowKey={(invoice) => invoice.invoiceId}
      cells={(invoice) => [
        invoice.invoiceNumber,
        invoice.issueDate,
        euros(invoice.totalInclVatCents, currentLanguage()),
        t(`billing.statuses.${invoice.status}`, { defaultValue: invoice.status }),
      ]}
    />
  );
}
