import './messages.js';
import { Alert, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../../api/client.js';
import { currentLanguage } from '../../i18n/index.js';
import { DataTable } from '../../ui/DataTable.js';
import { notifySuccess } from '../../ui/notify.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { euros } from '../sales/api.js';
import { dayCell, formatDayOfMoment } from '../../ui/dates.js';

interface Reminder {
  level: number;
  kind: 'first_reminder' | 'second_reminder' | 'formal_notice';
  sentOn: string;
  payBy: string;
  balanceCents: number;
  mailed: boolean;
}

interface Dunning {
  invoiceId: number;
  invoiceNumber: string;
  status: string;
  balanceCents: number;
  disputed: boolean;
  sentForCollectionAt: string | null;
  reminders: Reminder[];
}

/** The reminders an invoice got (decision 0300) and, after the formal notice, its hand-over for collection. */
export function InvoiceDunning({ invoiceId, purpose }: { invoiceId: number; purpose: string | undefined }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const queryKey = ['invoice-reminders', invoiceId, purpose];
  const dunning = useQuery({
    queryKey,
    queryFn: () => api<Dunning>('GET', `/api/v1/invoices/${invoiceId}/reminders`, { purpose }),
  });
  const collection = useMutation({
    mutationFn: () =>
      api<{ invoiceNumber: string; sentForCollectionAt: string }>(
        'POST',
        `/api/v1/invoices/${invoiceId}/collection`,
        { purpose },
      ),
    onSuccess: async (answer) => {
      notifySuccess(t('dunning.collectionDone', { number: answer.invoiceNumber }));
      await queryClient.invalidateQueries({ queryKey });
    },
  });
  const columns = useMemo<ColumnDef<Reminder, unknown>[]>(
    () => [
      { id: 'level', header: t('dunning.level'), accessorKey: 'level' },
      { id: 'kind', header: t('dunning.kind'), accessorFn: (row) => t(`dunning.kinds.${row.kind}`) },
      { id: 'sentOn', header: t('dunning.sentOn'), accessorKey: 'sentOn', cell: dayCell },
      { id: 'payBy', header: t('dunning.payBy'), accessorKey: 'payBy', cell: dayCell },
      {
        id: 'balance',
        header: t('dunning.balance'),
        accessorKey: 'balanceCents',
        cell: ({ row }) => euros(row.original.balanceCents, currentLanguage()),
      },
      {
        id: 'mailed',
        header: t('dunning.mailed'),
        accessorFn: (row) => (row.mailed ? t('dunning.yes') : t('dunning.no')),
      },
    ],
    [t],
  );
  const data = dunning.data;
  const formalNotice = data?.reminders.some((reminder) => reminder.kind === 'formal_notice') ?? false;
  return (
    <Card withBorder data-testid="invoice-reminders">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('dunning.remindersTitle')}
        </Title>
        {dunning.error ? <ProblemAlert error={dunning.error} /> : null}
        {data && data.reminders.length === 0 ? <Text size="sm">{t('dunning.noReminders')}</Text> : null}
        {data && data.reminders.length > 0 ? (
          <DataTable
            data={data.reminders}
            columns={columns}
            caption={t('dunning.remindersCaption')}
            initialSorting={[{ id: 'level', desc: false }]}
            rowTestId={(row) => `reminder-${row.level}`}
          />
        ) : null}
        {data?.disputed ? <Alert color="orange">{t('dunning.disputed')}</Alert> : null}
        {data?.sentForCollectionAt ? (
          <Alert color="gray" data-testid="collection-done">
            {t('dunning.collected', { date: formatDayOfMoment(data.sentForCollectionAt) })}
          </Alert>
        ) : null}
        {data && !data.sentForCollectionAt ? (
          <Text size="sm" c="dimmed">
            {formalNotice ? t('dunning.collectionHelp') : t('dunning.collectionLater')}
          </Text>
        ) : null}
        {collection.error instanceof ApiError && collection.error.status === 409 ? (
          // The server's reason (no formal notice yet, disputed, paid, handed over already) in its words.
          <Alert
            color="orange"
            role="alert"
            title={t('dunning.collectionRefused')}
            data-problem-code="conflict"
          >
            {collection.error.detail ?? collection.error.message}
          </Alert>
        ) : collection.error ? (
          <ProblemAlert error={collection.error} title={t('dunning.collectionRefused')} />
        ) : null}
        {data && formalNotice && !data.sentForCollectionAt ? (
          <Group>
            <Button variant="default" loading={collection.isPending} onClick={() => collection.mutate()}>
              {t('dunning.collectionSubmit')}
            </Button>
          </Group>
        ) : null}
      </Stack>
    </Card>
  );
}
