import { Anchor, Badge, Group, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { FixedPurpose } from '../../purposes/FixedPurpose.js';
import { daysUntil, isOpen, useRequests, type RightsRequest } from './api.js';
import { RequestDetail } from './RequestDetail.js';
import { formatDay, dayCell } from '../../ui/dates.js';

export function RequestsScreen() {
  return (
    <Routes>
      <Route index element={<RequestsInbox />} />
      <Route path=":requestId" element={<RequestDetail />} />
    </Routes>
  );
}

export function DueBadge({ request }: { request: RightsRequest }) {
  const { t } = useTranslation();
  if (!isOpen(request)) return <Text size="sm">{formatDay(request.dueOn)}</Text>;
  const days = daysUntil(request.dueOn);
  const color = request.overdue ? 'red.9' : days <= 7 ? 'yellow.5' : 'gray.7';
  return (
    <Group gap={6} wrap="nowrap">
      <Text size="sm">{formatDay(request.dueOn)}</Text>
      <Badge color={color} tt="none">
        {request.overdue ? t('requests.overdue') : t('requests.daysLeft', { count: days })}
      </Badge>
    </Group>
  );
}

type Show = 'open' | 'overdue' | 'all';

/** The inbox: requests by due date, the overdue ones first and red. */
function RequestsInbox() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const requests = useRequests();
  const [show, setShow] = useState<Show>('open');
  const columns = useMemo<ColumnDef<RightsRequest, unknown>[]>(
    () => [
      {
        id: 'kind',
        header: t('requests.kind'),
        accessorFn: (row) => t(`requestKind.${row.kind}`, { defaultValue: row.kind }),
        cell: ({ row, getValue }) => (
          <Anchor component={Link} to={row.original.requestId} onClick={(event) => event.stopPropagation()}>
            {String(getValue())}
          </Anchor>
        ),
      },
      {
        id: 'state',
        header: t('requests.state'),
        accessorFn: (row) => t(`requestState.${row.state}`),
      },
      { id: 'receivedOn', header: t('requests.received'), accessorKey: 'receivedOn', cell: dayCell },
      {
        id: 'dueOn',
        header: t('requests.due'),
        accessorKey: 'dueOn',
        cell: ({ row }) => <DueBadge request={row.original} />,
      },
      {
        id: 'channel',
        header: t('requests.channel'),
        accessorFn: (row) => t(`channel.${row.channel}`, { defaultValue: row.channel }),
      },
      {
        id: 'subject',
        header: t('requests.person'),
        accessorFn: (row) => (row.subjectId === null ? t('requests.unmatched') : `#${row.subjectId}`),
      },
    ],
    [t],
  );
  const rows = (requests.data ?? []).filter((request) =>
    show === 'all' ? true : show === 'overdue' ? request.overdue : isOpen(request),
  );
  return (
    <Stack>
      <Title order={1}>{t('nav.requests')}</Title>
      <FixedPurpose purposeKey="rights_requests" />
      <SegmentedControl
        aria-label={t('requests.show')}
        value={show}
        onChange={(value) => setShow(value)}
        data={[
          { value: 'open', label: t('requests.showOpen') },
          { value: 'overdue', label: t('requests.showOverdue') },
          { value: 'all', label: t('requests.showAll') },
        ]}
        w="fit-content"
      />
      {requests.error ? <ProblemAlert error={requests.error} /> : null}
      <DataTable
        data={rows}
        columns={columns}
        caption={t('requests.caption', { count: rows.length })}
        initialSorting={[{ id: 'dueOn', desc: false }]}
        onRowClick={(row) => void navigate(row.requestId)}
        rowTestId={(row) => `request-${row.requestId}`}
      />
    </Stack>
  );
}
