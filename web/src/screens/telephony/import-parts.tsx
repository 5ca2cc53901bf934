import { Badge, List } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import './messages.js';

/** A call-record import as `GET /api/v1/call-record-imports` lists it (file run or upload). */
export interface CallImport {
  importId: number;
  fileName: string;
  format: string;
  status: 'queued' | 'running' | 'finished' | 'failed' | 'interrupted';
  startedAt: string;
  finishedAt: string | null;
  linesRead: number;
  imported: number;
  rejected: number;
  duplicates: number;
  unrated: number;
  rejectsByReason: Record<string, number>;
  errorCode: string | null;
  source: 'file' | 'upload';
  sizeBytes: number | null;
  rejectsKeptUntil: string | null;
}

export const isBusy = (item: CallImport | undefined): boolean =>
  item?.status === 'queued' || item?.status === 'running';

const STATUS_COLOR: Record<CallImport['status'], string> = {
  queued: 'gray.7',
  running: 'blue.8',
  finished: 'teal.9',
  failed: 'red.8',
  interrupted: 'orange.9',
};
const KNOWN_REJECTS = new Set([
  'caller_not_normalisable',
  'destination_not_normalisable',
  'not_attributed',
  'value_out_of_range',
  'empty_line',
  'malformed_csv',
  'wrong_column_count',
  'invalid_timestamp',
  'invalid_duration',
  'end_before_start',
  'answer_outside_call',
  'date_out_of_range',
]);
const KNOWN_ERRORS = new Set(['layout', 'upload_lost', 'error']);

export function ImportStatusBadge({ item }: { item: CallImport }) {
  const { t } = useTranslation();
  return (
    <Badge color={STATUS_COLOR[item.status]} tt="none" miw="max-content">
      {t(`telephony.importStatus.${item.status}`)}
    </Badge>
  );
}

/** Why lines were refused, or why the import stopped, in words. */
export function ImportReasons({ item }: { item: CallImport }) {
  const { t } = useTranslation();
  const lines = Object.entries(item.rejectsByReason).map(([reason, count]) =>
    KNOWN_REJECTS.has(reason)
      ? t(`telephony.rejects.${reason}`, { count })
      : t('telephony.rejects.other', { reason, count }),
  );
  if (item.status === 'interrupted') lines.unshift(t('telephony.importErrors.interrupted'));
  if (item.status === 'failed')
    lines.unshift(
      KNOWN_ERRORS.has(item.errorCode ?? '')
        ? t(`telephony.importErrors.${item.errorCode ?? ''}`)
        : t('telephony.importErrors.other', { code: item.errorCode ?? '' }),
    );
  if (lines.length === 0) return null;
  return (
    <List size="sm">
      {lines.map((line) => (
        <List.Item key={line}>{line}</List.Item>
      ))}
    </List>
  );
}
