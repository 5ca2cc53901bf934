import { Badge, Button } from '@mantine/core';
import type { ColumnDef } from '@tanstack/react-table';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { currentLanguage } from '../../i18n/index.js';
import { euros, totalOf } from './api.js';

/** What quotes, orders and contracts share: a number, a customer and a status. */
interface SalesDocument {
  subjectId?: number | null;
  status: string;
}

export function numberColumn<T>(header: string, numberOf: (row: T) => number): ColumnDef<T, unknown> {
  return { id: 'id', header, accessorFn: numberOf, cell: ({ row }) => `#${numberOf(row.original)}` };
}

export function customerColumn<T extends SalesDocument>(t: TFunction): ColumnDef<T, unknown> {
  return {
    id: 'person',
    header: t('sales.customer'),
    accessorFn: (row) => (row.subjectId ? `#${row.subjectId}` : '—'),
  };
}

export function totalColumn<T extends { lines: Parameters<typeof totalOf>[0] }>(
  t: TFunction,
): ColumnDef<T, unknown> {
  return {
    id: 'total',
    header: t('sales.total'),
    accessorFn: (row) => totalOf(row.lines),
    cell: ({ getValue }) => euros(Number(getValue()), currentLanguage()),
  };
}

export function statusColumn<T extends SalesDocument>(t: TFunction): ColumnDef<T, unknown> {
  return {
    id: 'status',
    header: t('sales.status'),
    accessorKey: 'status',
    cell: ({ row }) => <StatusBadge status={row.original.status} />,
  };
}

function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  const color = ['accepted', 'delivered', 'active'].includes(status)
    ? 'teal.9'
    : ['rejected', 'cancelled', 'expired', 'ended'].includes(status)
      ? 'gray.7'
      : 'indigo.8';
  return (
    <Badge color={color} tt="none">
      {t(`salesStatus.${status}`, { defaultValue: status })}
    </Badge>
  );
}

/** A row's action button, named with the row's number for screen readers. */
export function RowAction({
  label,
  rowNumber,
  secondary = false,
  onRun,
}: {
  label: string;
  rowNumber: number;
  secondary?: boolean;
  onRun: () => void;
}) {
  return (
    <Button
      size="xs"
      variant={secondary ? 'default' : 'filled'}
      aria-label={`${label} #${rowNumber}`}
      onClick={onRun}
    >
      {label}
    </Button>
  );
}
