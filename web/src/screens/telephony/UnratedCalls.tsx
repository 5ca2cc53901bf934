import { Alert, Anchor, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api/client.js';
import { PurposePicker, type ScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { MonthInput } from './MonthInput.js';
import { brusselsMoment, todayInBrussels, useWithHolders } from './api.js';

interface UnratedCall {
  subjectId: number;
  startedAt: string;
  caller: string;
  destination: string;
  billableSeconds: number;
  direction: 'outbound' | 'inbound' | 'internal' | 'forwarded';
  reason: string;
}

interface UnratedPage {
  items: UnratedCall[];
  total: number;
  nextCursor: string | null;
}

/**
 * The month's unrated calls of every customer, with why each has no price, read under the purpose
 * that covers call records (VX-5); the customers' names under the screen's purpose where it
 * covers them. The invoice run refuses a month that still has some.
 */
export function UnratedCalls({
  purpose,
  calls,
  coversNames,
}: {
  purpose: ScreenPurpose;
  calls: ScreenPurpose;
  coversNames: boolean;
}) {
  const { t } = useTranslation();
  const [month, setMonth] = useState(todayInBrussels().slice(0, 7));
  const [shown, setShown] = useState<string | undefined>();
  const pages = useInfiniteQuery({
    queryKey: ['unrated-calls', calls.purpose, shown],
    enabled: calls.purpose !== undefined && shown !== undefined,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      api<UnratedPage>('GET', '/api/v1/call-records/unrated', {
        purpose: calls.purpose,
        query: { month: shown ?? '', limit: 200, cursor: pageParam },
      }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((page) => page.items) ?? [], [pages.data]);
  const withHolders = useWithHolders(rows, purpose.purpose, coversNames);
  const total = pages.data?.pages[0]?.total;
  const columns = useMemo<ColumnDef<UnratedCall & { holder: string }, unknown>[]>(
    () => [
      {
        id: 'started',
        header: t('telephony.startedAt'),
        accessorKey: 'startedAt',
        cell: ({ row }) => brusselsMoment(row.original.startedAt),
      },
      {
        id: 'holder',
        header: t('telephony.holder'),
        accessorFn: (row) => row.holder,
        cell: ({ row }) => (
          <Anchor component={Link} to={`/people/${row.original.subjectId}`} size="sm">
            {row.original.holder}
          </Anchor>
        ),
      },
      { id: 'caller', header: t('telephony.caller'), accessorKey: 'caller' },
      { id: 'destination', header: t('telephony.destination'), accessorKey: 'destination' },
      { id: 'seconds', header: t('telephony.duration'), accessorKey: 'billableSeconds' },
      {
        id: 'reason',
        header: t('telephony.unratedReason'),
        accessorFn: (row) => t(`telephony.unratedReasons.${row.reason}`, { defaultValue: row.reason }),
      },
    ],
    [t],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('telephony.unratedIntro')}
      </Text>
      <PurposePicker state={calls} />
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (/^\d{4}-\d{2}$/.test(month)) setShown(month);
        }}
      >
        <Group align="flex-end">
          <MonthInput value={month} onChange={setMonth} />
          <Button type="submit" variant="default">
            {t('telephony.show')}
          </Button>
        </Group>
      </form>
      {pages.error ? <ProblemAlert error={pages.error} /> : null}
      {pages.isFetching ? <Loader size="sm" aria-label={t('common.loading')} /> : null}
      {total !== undefined ? (
        <Alert color={total > 0 ? 'orange' : 'teal'} data-testid="unrated-total" role="status">
          {total > 0 ? t('telephony.unratedTotal', { count: total }) : t('telephony.noneUnrated')}
        </Alert>
      ) : null}
      {shown && total !== undefined && total > 0 ? (
        <DataTable
          data={withHolders}
          columns={columns}
          caption={t('telephony.unratedCaption')}
          initialSorting={[{ id: 'started', desc: false }]}
          pageSize={50}
        />
      ) : null}
      {pages.hasNextPage ? (
        <Button
          variant="default"
          onClick={() => void pages.fetchNextPage()}
          loading={pages.isFetchingNextPage}
        >
          {t('telephony.more')}
        </Button>
      ) : null}
    </Stack>
  );
}
