import { escapeHtml } from '../../platform/html.js';

/**
 * Markup that is already safe to send: produced only by the `html` tag below (or `trusted`), never
 * from a plain string. Everything interpolated into `html` that is not `Html` is escaped with the
 * one escaper (src/platform/html.ts), so a name, an address or a policy text cannot become markup.
 */
export class Html {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

/** What may be interpolated: text (escaped), markup, lists of either; nothing renders as empty. */
export type HtmlValue = Html | string | number | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** The template tag: `html\`<p>${name}</p>\`` escapes `name` unless it is `Html`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new Html(out);
}

/** Markup written in this module's own source (never input): e.g. the stylesheet. */
export function trusted(markup: string): Html {
  return new Html(markup);
}
