import { Group, Pagination, ScrollArea, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import {
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getPaginationRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
  type SortingState,
} from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';

export interface DataTableProps<T> {
  data: T[];
  columns: ColumnDef<T, unknown>[];
  /** Accessible name of the table. */
  caption: string;
  onRowClick?: (row: T) => void;
  /** Rows per page (client side; the API's cursor pages are loaded by the screen). */
  pageSize?: number;
  initialSorting?: SortingState;
  filterPlaceholder?: string;
  rowTestId?: (row: T) => string;
}

/**
 * A table with sorting (click a header), a text filter over every column and pages, drawn with
 * Mantine's table so it reads as one to a screen reader (caption, column headers, aria-sort).
 */
export function DataTable<T>({
  data,
  columns,
  caption,
  onRowClick,
  pageSize = 20,
  initialSorting = [],
  filterPlaceholder,
  rowTestId,
}: DataTableProps<T>) {
  const { t, i18n } = useTranslation();
  // The table keeps each row's cell values until its data changes: a new language makes new rows,
  // so values translated in an accessor follow the staff member's language.
  const rows = useMemo(() => [...data], [data, i18n.language]);
  const [sorting, setSorting] = useState<SortingState>(initialSorting);
  const [globalFilter, setGlobalFilter] = useState('');
  const table = useReactTable({
    data: rows,
    columns,
    state: { sorting, globalFilter },
    onSortingChange: setSorting,
    onGlobalFilterChange: setGlobalFilter,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getPaginationRowModel: getPaginationRowModel(),
    initialState: { pagination: { pageSize } },
  });
  const pages = table.getPageCount();
  const open = (row: Row<T>) => onRowClick?.(row.original);
  return (
    <>
      <TextInput
        label={t('common.filter')}
        placeholder={filterPlaceholder}
        value={globalFilter}
        onChange={(event) => setGlobalFilter(event.currentTarget.value)}
        maw={360}
      />
      <ScrollArea>
        <Table striped highlightOnHover={Boolean(onRowClick)} verticalSpacing="xs">
          <Table.Caption>{caption}</Table.Caption>
          <Table.Thead>
            {table.getHeaderGroups().map((group) => (
              <Table.Tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  const label = flexRender(header.column.columnDef.header, header.getContext());
                  return (
                    <Table.Th
                      key={header.id}
                      aria-sort={
                        sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined
                      }
                    >
                      {header.column.getCanSort() ? (
                        <UnstyledButton onClick={header.column.getToggleSortingHandler()} fw={700} fz="sm">
                          {label}
                          {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                        </UnstyledButton>
                      ) : (
                        label
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody>
            {table.getRowModel().rows.map((row) => (
              <Table.Tr
                key={row.id}
                data-testid={rowTestId?.(row.original)}
                style={onRowClick ? { cursor: 'pointer' } : undefined}
                onClick={() => open(row)}
              >
                {row.getVisibleCells().map((cell) => (
                  <Table.Td key={cell.id}>
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {table.getRowModel().rows.length === 0 ? <Text c="dimmed">{t('common.noRows')}</Text> : null}
      {pages > 1 ? (
        <Group justify="flex-end">
          <Pagination
            total={pages}
            value={table.getState().pagination.pageIndex + 1}
            onChange={(page) => table.setPageIndex(page - 1)}
            getControlProps={(control) =>
              control === 'next'
                ? { 'aria-label': t('common.next') }
                : control === 'previous'
                  ? { 'aria-label': t('common.previous') }
                  : {}
            }
          />
        </Group>
      ) : null}
    </>
  );
}
