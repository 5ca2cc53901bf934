import { List, Stack, Table, Text, Title } from '@mantine/core';

/** The server's generated document (statement, register): blocks of plain text, no markup. */
export type DocumentBlock =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; header: string[]; rows: string[][] };

export interface GeneratedDocument {
  lang: string;
  title: string;
  blocks: DocumentBlock[];
}

export interface DocumentViewProps {
  document: GeneratedDocument;
  /**
   * Draws each row of a table as its own titled two-column table (header → value), titled by
   * this column: a table of many long columns (the Art. 30 register has eleven) stays readable
   * on a screen instead of running off its right edge.
   */
  rowTitleColumn?: number;
}

/**
 * Draws a generated document with the screen's own components. Every string is text to React
 * (escaped), so nothing in a policy's labels is read as HTML or Markdown. The document's first
 * heading sits below the screen's title, so headings start one level lower.
 */
export function DocumentView({ document, rowTitleColumn }: DocumentViewProps) {
  return (
    <Stack gap="sm" lang={document.lang} data-testid="document">
      {document.blocks.map((block, index) => {
        switch (block.kind) {
          case 'heading':
            return (
              <Title key={index} order={(block.level + 1) as 2 | 3 | 4}>
                {block.text}
              </Title>
            );
          case 'paragraph':
            return <Text key={index}>{block.text}</Text>;
          case 'list':
            return (
              <List key={index}>
                {block.items.map((item, itemIndex) => (
                  <List.Item key={itemIndex}>{item}</List.Item>
                ))}
              </List>
            );
          case 'table':
            return rowTitleColumn === undefined ? (
              <WideTable key={index} header={block.header} rows={block.rows} />
            ) : (
              <Stack key={index} gap="lg">
                {block.rows.map((row, rowIndex) => (
                  <RowTable key={rowIndex} header={block.header} row={row} titleColumn={rowTitleColumn} />
                ))}
              </Stack>
            );
        }
      })}
    </Stack>
  );
}

function WideTable({ header, rows }: { header: string[]; rows: string[][] }) {
  return (
    // A table wider than the screen scrolls sideways: its viewport takes the focus, so the arrow
    // keys reach the columns off screen without a mouse.
    <Table.ScrollContainer
      minWidth={Math.max(720, header.length * 160)}
      scrollAreaProps={{ viewportProps: { tabIndex: 0, role: 'region', 'aria-label': header.join(' · ') } }}
    >
      <Table striped verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            {header.map((cell, index) => (
              <Table.Th key={index}>{cell}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row, rowIndex) => (
            <Table.Tr key={rowIndex}>
              {row.map((cell, index) => (
                <Table.Td key={index}>{cell}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RowTable({ header, row, titleColumn }: { header: string[]; row: string[]; titleColumn: number }) {
  const title = row[titleColumn] ?? '';
  return (
    <section aria-label={title}>
      <Title order={3} mb="xs">
        {title}
      </Title>
      <Table withTableBorder withRowBorders layout="fixed" verticalSpacing="xs">
        <Table.Tbody>
          {header.map((name, index) =>
            index === titleColumn ? null : (
              <Table.Tr key={index}>
                <Table.Th scope="row" w="28%" style={{ verticalAlign: 'top' }}>
                  {name}
                </Table.Th>
                <Table.Td style={{ verticalAlign: 'top' }}>{row[index] ?? ''}</Table.Td>
              </Table.Tr>
            ),
          )}
        </Table.Tbody>
      </Table>
    </section>
  );
}
