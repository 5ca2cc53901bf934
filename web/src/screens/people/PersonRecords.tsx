import { Badge, Card, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { useScreenPurpose } from '../../purposes/usePurpose.js';
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

/** A person's contracts, under the role's purpose for contracts (shown only when one fits). */
export function PersonContracts({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('contracts');
  const contracts = useQuery({
    queryKey: ['contracts', 'person', subjectId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: Contract[] }>('GET', '/api/v1/contracts', {
          purpose: purpose.purpose,
          query: { subjectId, limit: 100 },
        })
      ).items,
  });
  if (purpose.purpose === undefined) return null;
  return (
    <Card withBorder data-testid="person-contracts">
      <Stack gap="xs">
        <Title order={2} size="h4">
          {t('personRecords.contracts')}
        </Title>
        {contracts.error ? <ProblemAlert error={contracts.error} /> : null}
        {contracts.data && contracts.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('common.noRows')}
          </Text>
        ) : null}
        {contracts.data && contracts.data.length > 0 ? (
          <Table>
            <Table.Caption>{t('personRecords.contractsCaption')}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>#</Table.Th>
                <Table.Th>{t('personRecords.products')}</Table.Th>
                <Table.Th>{t('personRecords.start')}</Table.Th>
                <Table.Th>{t('personRecords.status')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {contracts.data.map((contract) => (
                <Table.Tr key={contract.contractId}>
                  <Table.Td>{contract.contractId}</Table.Td>
                  <Table.Td>
                    {contract.lines.map((line) => line.productName ?? line.productCode).join(', ')}
                  </Table.Td>
                  <Table.Td>{contract.startDate}</Table.Td>
                  <Table.Td>
                    <Badge color={contract.status === 'active' ? 'teal.9' : 'gray.7'} tt="none">
                      {t(`salesStatus.${contract.status}`, { defaultValue: contract.status })}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
      </Stack>
    </Card>
  );
}

/** A person's invoices and credit notes, under the role's billing purpose (shown only when one fits). */
export function PersonInvoices({ subjectId }: { subjectId: number }) {
  const { t } = useTranslation();
  const purpose = useScreenPurpose('billing');
  const invoices = useQuery({
    queryKey: ['invoices', 'person', subjectId, purpose.purpose],
    enabled: purpose.purpose !== undefined,
    queryFn: async () =>
      (
        await api<{ items: InvoiceRow[] }>('GET', '/api/v1/invoices', {
          purpose: purpose.purpose,
          query: { subjectId, limit: 100 },
        })
      ).items,
  });
  if (purpose.purpose === undefined) return null;
  return (
    <Card withBorder data-testid="person-invoices">
      <Stack gap="xs">
        <Title order={2} size="h4">
          {t('personRecords.invoices')}
        </Title>
        {invoices.error ? <ProblemAlert error={invoices.error} /> : null}
        {invoices.data && invoices.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('common.noRows')}
          </Text>
        ) : null}
        {invoices.data && invoices.data.length > 0 ? (
          <Table>
            <Table.Caption>{t('personRecords.invoicesCaption')}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('billing.number')}</Table.Th>
                <Table.Th>{t('billing.issueDate')}</Table.Th>
                <Table.Th>{t('billing.totalIncl')}</Table.Th>
                <Table.Th>{t('billing.status')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {invoices.data.map((invoice) => (
                <Table.Tr key={invoice.invoiceId}>
                  <Table.Td>{invoice.invoiceNumber}</Table.Td>
                  <Table.Td>{invoice.issueDate}</Table.Td>
                  <Table.Td>{euros(invoice.totalInclVatCents, currentLanguage())}</Table.Td>
                  <Table.Td>
                    {t(`billing.statuses.${invoice.status}`, { defaultValue: invoice.status })}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : null}
      </Stack>
    </Card>
  );
}
