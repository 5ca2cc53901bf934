/**
 * Whether mail sent through `smtpUrl` leaves the machine (decision 0837): a relay is configured and
 * its host is not a loopback address. A loopback relay is a development sink (MailHog, the tests'
 * SMTP server) and delivers nowhere.
 */
export function deliversThrough(smtpUrl: string | undefined): boolean {
  if (smtpUrl === undefined) return false;
  const host = new URL(smtpUrl).hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}

/** The sender address a development setup uses; never one to reach real people from. */
export const DEVELOPMENT_MAIL_FROM = 'no-reply@kluis.localhost';
