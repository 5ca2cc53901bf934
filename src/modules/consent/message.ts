import { escapeHtml } from '../../platform/html.js';
import type { MailLanguage } from './consent.tables.js';
import { linksOf } from './mailing.service.js';

const FOOTER: Record<MailLanguage, { why: string; unsubscribe: string }> = {
  nl: {
    why: 'U ontvangt dit bericht van {controller}.',
    unsubscribe: 'Uitschrijven (meteen, zonder aanmelden)',
  },
  fr: {
    why: 'Vous recevez ce message de {controller}.',
    unsubscribe: 'Se désinscrire (immédiatement, sans connexion)',
  },
  en: {
    why: 'You receive this message from {controller}.',
    unsubscribe: 'Unsubscribe (at once, no login needed)',
  },
};

/** The headers every marketing mail is signed over (RFC 8058's two among them). */
export const SIGNED_HEADERS =
  'From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:List-Unsubscribe:List-Unsubscribe-Post';

export interface MailingMessageInput {
  publicUrl: string;
  tenantSlug: string;
  /** The recipient's opaque token (unsubscribe link, pixel, click redirects). */
  token: string;
  language: MailLanguage;
  controller: string;
  subject: string;
  body: string;
  /** The mailing's numbered links (the click redirect goes only to these). */
  links: ReadonlyArray<{ no: number; url: string }>;
  /** VK-19: pixel and wrapped links only for a recipient who consented to tracking. */
  tracked: boolean;
}

export interface MailingMessage {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  unsubscribeUrl: string;
}

/**
 * One recipient's mail: the text as staff wrote it, links wrapped in click redirects and an open
 * pixel only when tracked, a visible unsubscribe link in both parts, and the RFC 8058 headers
 * (List-Unsubscribe with the https link, List-Unsubscribe-Post for one-click).
 */
export function buildMailingMessage(input: MailingMessageInput): MailingMessage {
  const base = `${input.publicUrl}/t/${input.tenantSlug}/mail`;
  const unsubscribeUrl = `${base}/unsubscribe/${input.token}`;
  const numbers = new Map(input.links.map((link) => [link.url, link.no]));
  const target = (url: string): string => {
    const no = numbers.get(url);
    return input.tracked && no !== undefined ? `${base}/c/${input.token}/${no}` : url;
  };
  const footer = FOOTER[input.language];
  const why = footer.why.replace('{controller}', input.controller);
  let text = input.body;
  for (const url of [...new Set(linksOf(input.body))].sort((a, b) => b.length - a.length))
    text = text.split(url).join(target(url));
  text = `${text}\n\n--\n${why}\n${footer.unsubscribe}: ${unsubscribeUrl}\n`;
  const html = [
    '<!doctype html><html><body>',
    ...input.body.split(/\n{2,}/).map((paragraph) => `<p>${linkify(paragraph, target)}</p>`),
    `<hr><p><small>${escapeHtml(why)} <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(footer.unsubscribe)}</a></small></p>`,
    input.tracked ? `<img src="${escapeHtml(`${base}/o/${input.token}`)}" width="1" height="1" alt="">` : '',
    '</body></html>',
  ].join('\n');
  return {
    subject: input.subject,
    text,
    html,
    unsubscribeUrl,
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

/** Escapes a paragraph and turns its links into anchors (to `target(url)`), line breaks into <br>. */
function linkify(paragraph: string, target: (url: string) => string): string {
  let html = '';
  let last = 0;
  for (const match of paragraph.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) {
    const url = match[0].replace(/[.,;:!?]+$/, '');
    const at = match.index;
    html += escapeHtml(paragraph.slice(last, at));
    html += `<a href="${escapeHtml(target(url))}">${escapeHtml(url)}</a>`;
    last = at + url.length;
  }
  html += escapeHtml(paragraph.slice(last));
  return html.replace(/\n/g, '<br>');
}
