/**
 * Whether mail sent through `smtpUrl` reaches real people (decisions 0837, 0843): every configured
 * relay does, a Postfix on 127.0.0.1 included, unless the operator says it is a development sink
 * that delivers nowhere (`KLUIS_SMTP_DELIVERS=false`: MailHog, the tests' SMTP server). Where the
 * relay runs says nothing about where it sends.
 */
export function deliversThrough(smtpUrl: string | undefined, declared?: boolean): boolean {
  if (smtpUrl === undefined) return false;
  return declared ?? true;
}

/** The sender address a development setup uses; never one to reach real people from. */
export const DEVELOPMENT_MAIL_FROM = 'no-reply@kluis.localhost';
