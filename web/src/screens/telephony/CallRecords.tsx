import { Alert, Badge, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client.js';
import { PurposePicker, type ScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { PersonSelect } from '../../ui/PersonSelect.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { MonthInput } from './MonthInput.js';
import { brusselsMoment, euroOfMicros, todayInBrussels, type CallRecord } from './api.js';

/** The month after YYYY-MM, as its first day. */
function nextMonth(month: string): string {
  const [year = 0, number = 1] = month.split('-').map(Number);
  return number === 12 ? `${year + 1}-01-01` : `${year}-${String(number + 1).padStart(2, '0')}-01`;
}

const charged = (record: CallRecord): boolean =>
  record.direction === 'outbound' || record.direction === 'forwarded';

/**
 * A customer's call records of a month, read under the purpose that covers call records (VX-5);
 * the customer is found under the screen's purpose. Charged calls without a price are not rated.
 */
export function CallRecords({ purpose, calls }: { purpose: ScreenPurpose; calls: ScreenPurpose }) {
  const { t } = useTranslation();
  const [subjectId, setSubjectId] = useState<string | null>(null);
  const [month, setMonth] = useState(todayInBrussels().slice(0, 7));
  const [shown, setShown] = useState<{ subjectId: string; month: string } | undefined>();
  const records = useQuery({
    queryKey: ['call-records', calls.purpose, shown],
    enabled: calls.purpose !== undefined && shown !== undefined,
    queryFn: async () =>
      (
        await api<{ items: CallRecord[] }>('GET', `/api/v1/customers/${shown?.subjectId ?? 0}/call-records`, {
          purpose: calls.purpose,
          query: { from: `${shown?.month ?? ''}-01`, to: nextMonth(shown?.month ?? ''), limit: 10_000 },
        })
      ).items,
  });
  const columns = useMemo<ColumnDef<CallRecord, unknown>[]>(
    () => [
      {
        id: 'started',
        header: t('telephony.startedAt'),
        accessorKey: 'startedAt',
        cell: ({ row }) => brusselsMoment(row.original.startedAt),
      },
      { id: 'caller', header: t('telephony.caller'), accessorKey: 'caller' },
      { id: 'destination', header: t('telephony.destination'), accessorKey: 'destination' },
      {
        id: 'direction',
        header: t('telephony.direction'),
        accessorFn: (row) => t(`telephony.directions.${row.direction}`),
      },
      { id: 'seconds', header: t('telephony.duration'), accessorKey: 'billableSeconds' },
      {
        id: 'cost',
        header: t('telephony.cost'),
        accessorFn: (row) => row.costMicros ?? -1,
        cell: ({ row }) =>
          row.original.costMicros !== null ? (
            euroOfMicros(row.original.costMicros)
          ) : charged(row.original) ? (
            <Badge color="orange" variant="light" tt="none">
              {t('telephony.unrated')}
            </Badge>
          ) : (
            '—'
          ),
      },
    ],
    [t],
  );
  const items = records.data ?? [];
  const chargedCount = items.filter(charged).length;
  const unrated = items.filter((record) => charged(record) && record.costMicros === null).length;
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('telephony.callsIntro')}
      </Text>
      <PurposePicker state={calls} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (subjectId && /^\d{4}-\d{2}$/.test(month)) setShown({ subjectId, month });
        }}
      >
        <Group align="flex-end">
          <PersonSelect
            purpose={purpose.purpose}
            label={t('telephony.holder')}
            value={subjectId}
            onChange={setSubjectId}
          />
          <MonthInput value={month} onChange={setMonth} />
          <Button type="submit" variant="default" disabled={!subjectId}>
            {t('telephony.show')}
          </Button>
        </Group>
      </form>
      {records.error ? <ProblemAlert error={records.error} /> : null}
      {records.isFetching ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      {records.data ? (
        <Alert color={unrated > 0 ? 'orange' : 'teal'} data-testid="unrated" role="status">
          {unrated > 0
            ? t('telephony.unratedCount', { count: unrated, total: chargedCount })
            : t('telephony.allRated')}
        </Alert>
      ) : null}
      {shown ? (
        <DataTable
          data={items}
          columns={columns}
          caption={t('telephony.callsCaption')}
          initialSorting={[{ id: 'started', desc: false }]}
          pageSize={50}
        />
      ) : null}
    </Stack>
  );
}
