import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { runAsOwner } from './database.js';

/** The button of a one-time link's page (decision 0400): where it posts and what it sends. */
export interface LinkButton {
  action: string;
  fields: Record<string, string>;
  /** The public forms' double-submit cookie the page set. */
  formCookie: string;
}

const unescape = (value: string): string =>
  value.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'");

/** Opens a mailed one-time link (a GET, as a mail scanner would) and reads its page's button. */
export async function openLinkPage(
  app: FastifyInstance,
  path: string,
): Promise<{ page: LightMyRequestResponse; button?: LinkButton }> {
  const page = await app.inject({ method: 'GET', url: path });
  const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
  if (page.statusCode !== 200 || action === undefined) return { page };
  const fields: Record<string, string> = {};
  for (const match of page.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g))
    fields[match[1] ?? ''] = unescape(match[2] ?? '');
  const formCookie = page.cookies.find((cookie) => cookie.name === 'kluis_form')?.value ?? '';
  return { page, button: { action: unescape(action), fields, formCookie } };
}

/** Presses the page's button: the POST that logs in or starts the download. */
export function pressLinkButton(app: FastifyInstance, button: LinkButton): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: button.action,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    cookies: { kluis_form: button.formCookie },
    payload: new URLSearchParams(button.fields).toString(),
  });
}

/** Follows a mailed one-time link as a person does: opens it, then presses its button. */
export async function followLink(app: FastifyInstance, path: string): Promise<LightMyRequestResponse> {
  const { page, button } = await openLinkPage(app, path);
  return button ? pressLinkButton(app, button) : page;
}

/**
 * Lets the hour pass in which a download link still works after its download was written to its end
 * (decision 0873): waits until the download is recorded, then moves that moment an hour back.
 */
export async function pastDownloadGrace(ownerUrl: string, tenantId: number): Promise<void> {
  const completed = async () =>
    (
      await runAsOwner<{ n: number }>(
        ownerUrl,
        'select count(*)::int as n from export_downloads where tenant_id = $1 and completed_at is not null',
        [tenantId],
      )
    ).rows[0]?.n ?? 0;
  await expect.poll(completed).toBeGreaterThan(0);
  await runAsOwner(
    ownerUrl,
    `update export_downloads set completed_at = completed_at - interval '61 minutes' where tenant_id = $1`,
    [tenantId],
  );
}
