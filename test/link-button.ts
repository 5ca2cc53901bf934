import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

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
