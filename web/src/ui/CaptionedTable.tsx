import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A plain table with a caption and a row of column headers, scrolled sideways on a narrow screen;
 * `children` are its body rows (`Table.Tr`).
 */
export function CaptionedTable({
  caption,
  headers,
  children,
}: {
  caption: string;
  headers: string[];
  children: ReactNode;
}) {
  return (
    // Scrolled sideways, the region must be reachable by keyboard (axe scrollable-region-focusable).
    <Table.ScrollContainer
      minWidth={720}
      scrollAreaProps={{ viewportProps: { tabIndex: 0, role: 'region', 'aria-label': caption } }}
    >
      <Table>
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            {headers.map((header, index) => (
              // The headers are fixed in number and order; two may read alike in a language.
              <Table.Th key={index}>{header}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
