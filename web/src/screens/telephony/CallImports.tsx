import { Alert, Button, FileInput, Group, Progress, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, fetchBlob, newIdempotencyKey, saveBlob } from '../../api/client.js';
import { PurposePicker, type ScreenPurpose } from '../../purposes/usePurpose.js';
import { DataTable } from '../../ui/DataTable.js';
import { ProblemAlert } from '../../ui/ProblemAlert.js';
import { brusselsMoment } from './api.js';
import { ImportReasons, ImportStatusBadge, isBusy, type CallImport } from './import-parts.js';

/** The counts so far, and a bar that moves while the job works. */
function ImportProgress({ item }: { item: CallImport }) {
  const { t } = useTranslation();
  return (
    <Alert
      color={item.status === 'failed' ? 'red' : isBusy(item) ? 'blue' : 'teal'}
      title={`${item.fileName} — ${t(`telephony.importStatus.${item.status}`)}`}
      data-testid="upload-progress"
      data-status={item.status}
      role="status"
    >
      <Stack gap="xs">
        {isBusy(item) ? (
          <Progress value={100} animated striped aria-label={t('telephony.importing')} />
        ) : null}
        <Text size="sm" data-testid="upload-counts">
          {t('telephony.importCounts', {
            lines: item.linesRead,
            imported: item.imported,
            rejected: item.rejected,
            duplicates: item.duplicates,
          })}
        </Text>
        <ImportReasons item={item} />
      </Stack>
    </Alert>
  );
}

/**
 * Upload a call-record file (imported by a job; decision 0360), follow its counts, and the list of
 * imports with their rejected lines, downloadable under the purpose that covers call records.
 */
export function CallImports({ calls }: { calls: ScreenPurpose }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<string | null>('auto');
  const [current, setCurrent] = useState<number | undefined>();
  const upload = useMutation({
    mutationFn: async (chosen: File) =>
      api<{ importId: number }>('POST', '/api/v1/call-record-imports', {
        query: { name: chosen.name, format: format ?? 'auto' },
        raw: { contentType: 'text/csv', data: chosen },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: async (answer) => {
      setCurrent(answer.importId);
      setFile(null);
      await client.invalidateQueries({ queryKey: ['call-imports'] });
    },
  });
  const followed = useQuery({
    queryKey: ['call-import', current],
    enabled: current !== undefined,
    queryFn: () => api<CallImport>('GET', `/api/v1/call-record-imports/${current ?? 0}`),
    refetchInterval: (query) => (isBusy(query.state.data) || query.state.data === undefined ? 1000 : false),
  });
  const list = useQuery({
    queryKey: ['call-imports', 'all'],
    queryFn: () =>
      api<{ items: CallImport[] }>('GET', '/api/v1/call-record-imports', { query: { limit: 100 } }),
    refetchInterval: (query) =>
      query.state.data?.items.some(isBusy) || isBusy(followed.data) ? 2000 : false,
  });
  const download = useMutation({
    mutationFn: async (item: CallImport) => {
      const blob = await fetchBlob(`/api/v1/call-record-imports/${item.importId}/rejects`, {
        purpose: calls.purpose,
      });
      saveBlob(blob, `import-${item.importId}-rejects.csv`);
    },
  });
  const columns = useMemo<ColumnDef<CallImport, unknown>[]>(
    () => [
      {
        id: 'started',
        header: t('telephony.importStarted'),
        accessorKey: 'startedAt',
        cell: ({ row }) => brusselsMoment(row.original.startedAt),
      },
      { id: 'file', header: t('telephony.importFile'), accessorKey: 'fileName' },
      {
        id: 'status',
        header: t('telephony.importState'),
        accessorKey: 'status',
        cell: ({ row }) => <ImportStatusBadge item={row.original} />,
      },
      { id: 'lines', header: t('telephony.importLines'), accessorKey: 'linesRead' },
      { id: 'imported', header: t('telephony.importImported'), accessorKey: 'imported' },
      { id: 'duplicates', header: t('telephony.importDuplicates'), accessorKey: 'duplicates' },
      { id: 'rejected', header: t('telephony.importRejected'), accessorKey: 'rejected' },
      {
        id: 'why',
        header: t('telephony.importWhy'),
        enableSorting: false,
        cell: ({ row }) => <ImportReasons item={row.original} />,
      },
      {
        id: 'rejects',
        header: t('telephony.importRejectFile'),
        enableSorting: false,
        cell: ({ row }) =>
          row.original.rejectsKeptUntil && row.original.rejected > 0 ? (
            <Button
              size="compact-sm"
              variant="default"
              disabled={calls.purpose === undefined}
              onClick={() => download.mutate(row.original)}
              aria-label={t('telephony.downloadRejectsOf', { file: row.original.fileName })}
            >
              {t('telephony.downloadRejects')}
            </Button>
          ) : row.original.source === 'file' && row.original.rejected > 0 ? (
            <Text size="xs" c="dimmed">
              {t('telephony.rejectsOnMachine')}
            </Text>
          ) : null,
      },
    ],
    [t, calls.purpose, download],
  );
  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('telephony.importsIntro')}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (file) upload.mutate(file);
        }}
      >
        <Group align="flex-end">
          <FileInput
            label={t('telephony.importChoose')}
            value={file}
            onChange={setFile}
            accept=".csv,.txt,text/csv"
            clearable
            w={320}
          />
          <Select
            label={t('telephony.importFormat')}
            value={format}
            onChange={setFormat}
            allowDeselect={false}
            data={[
              { value: 'auto', label: t('telephony.formats.auto') },
              { value: 'asterisk', label: 'Asterisk (Master.csv)' },
              { value: 'freeswitch', label: 'FreeSWITCH (cdr_csv)' },
            ]}
            w={220}
          />
          <Button type="submit" disabled={!file} loading={upload.isPending}>
            {t('telephony.importUpload')}
          </Button>
        </Group>
      </form>
      {upload.error ? <ProblemAlert error={upload.error} /> : null}
      {followed.data ? <ImportProgress item={followed.data} /> : null}
      {download.error ? <ProblemAlert error={download.error} /> : null}
      <PurposePicker state={calls} />
      {list.error ? <ProblemAlert error={list.error} /> : null}
      <DataTable
        data={list.data?.items ?? []}
        columns={columns}
        caption={t('telephony.importsCaption')}
        initialSorting={[{ id: 'started', desc: true }]}
        pageSize={20}
        rowTestId={(row) => `import-${row.importId}`}
      />
    </Stack>
  );
}
