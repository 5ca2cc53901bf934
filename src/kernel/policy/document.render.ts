import { escapeHtml } from '../../platform/html.js';
/**
 * A tiny document model shared by the statement and the register, rendered to Markdown or HTML.
 * Generators build blocks of plain text; only the renderers know about escaping.
 */

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; header: string[]; rows: string[][] };

export interface TextDocument {
  lang: string;
  title: string;
  blocks: Block[];
}

export type DocumentFormat = 'md' | 'html';

// Escapes what CommonMark would otherwise read as markup; an underscore inside a word is left
// alone because it cannot open emphasis there (so "kluis_consent" stays readable).
function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*[\]<>]/g, (c) => `\\${c}`)
    .replace(/(^|[^A-Za-z0-9])_|_(?=[^A-Za-z0-9]|$)/g, (m) => m.replace('_', '\\_'));
}

function escapeTableCell(text: string): string {
  return escapeMarkdown(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(doc: TextDocument): string {
  const parts = doc.blocks.map((block): string => {
    switch (block.kind) {
      case 'heading':
        return `${'#'.repeat(block.level)} ${escapeMarkdown(block.text)}`;
      case 'paragraph':
        return escapeMarkdown(block.text);
      case 'list':
        return block.items.map((item) => `- ${escapeMarkdown(item)}`).join('\n');
      case 'table': {
        const head = `| ${block.header.map(escapeTableCell).join(' | ')} |`;
        const rule = `| ${block.header.map(() => '---').join(' | ')} |`;
        const rows = block.rows.map((row) => `| ${row.map(escapeTableCell).join(' | ')} |`);
        return [head, rule, ...rows].join('\n');
      }
    }
  });
  return `${parts.join('\n\n')}\n`;
}

export function renderHtml(doc: TextDocument): string {
  const body = doc.blocks.map((block): string => {
    switch (block.kind) {
      case 'heading':
        return `<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`;
      case 'paragraph':
        return `<p>${escapeHtml(block.text)}</p>`;
      case 'list':
        return `<ul>\n${block.items.map((item) => `  <li>${escapeHtml(item)}</li>`).join('\n')}\n</ul>`;
      case 'table': {
        const head = `<tr>${block.header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr>`;
        const rows = block.rows.map(
          (row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`,
        );
        return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
      }
    }
  });
  return [
    '<!doctype html>',
    `<html lang="${escapeHtml(doc.lang)}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    '</head>',
    '<body>',
    '<main>',
    ...body,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export function renderDocument(doc: TextDocument, format: DocumentFormat): string {
  return format === 'html' ? renderHtml(doc) : renderMarkdown(doc);
}
