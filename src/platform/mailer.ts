import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from './logger.js';
import { inline } from './mail-text.js';
import { deliversThrough } from './mail-relay.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  /** Display name for From (e.g. the tenant); the address is the configured sender. */
  fromName?: string;
  /** The sender address, when not the configured one (a tenant's own, for its mailings). */
  fromAddress?: string;
  /**
   * The Message-ID (with its angle brackets); a letter sent again after a crash carries the same
   * one, so the receiving side can tell the duplicate (decision 0190).
   */
  messageId?: string;
  /** DKIM signature (the tenant's key); `headerFieldNames` lists the signed headers. */
  dkim?: { domainName: string; keySelector: string; privateKey: string; headerFieldNames: string };
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /**
   * Mail reaches real people: a relay is configured (KLUIS_SMTP_URL) and not declared a development
   * sink. Then a mailing goes out only from the tenant's own address, DKIM-signed (0837, 0843).
   */
  readonly delivers?: boolean;
}

export interface MailerOptions {
  /** smtp:// or smtps:// URL; without it mail goes to `<dataDir>/outbox/*.eml`. */
  smtpUrl: string | undefined;
  from: string;
  /** The relay is a development sink (false) or reaches people (true, the default with a relay). */
  delivers?: boolean;
  outboxDir: string;
  logger: Logger;
}

/**
 * SMTP through nodemailer. Without an SMTP server configured (the `npm start` demo), messages are
 * written as .eml files to the outbox folder so nothing is lost and nothing leaves the machine.
 */
export function createMailer(options: MailerOptions): Mailer {
  const transport = options.smtpUrl
    ? nodemailer.createTransport(options.smtpUrl)
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    delivers: deliversThrough(options.smtpUrl, options.delivers),
    async send(message) {
      const address = message.fromAddress ?? options.from;
      const info = (await transport.sendMail({
        // Header values on one line whatever a caller put in them (nodemailer encodes them too).
        from: message.fromName ? { name: inline(message.fromName), address } : address,
        to: message.to,
        subject: inline(message.subject),
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
        ...(message.headers ? { headers: message.headers } : {}),
        ...(message.messageId ? { messageId: message.messageId } : {}),
        ...(message.dkim ? { dkim: message.dkim } : {}),
      })) as { messageId?: string; message?: Buffer };
      if (!options.smtpUrl && info.message) {
        await mkdir(options.outboxDir, { recursive: true, mode: 0o700 });
        const file = path.join(
          options.outboxDir,
          `${Date.now()}-${Math.random().toString(36).slice(2, 8)}.eml`,
        );
        await writeFile(file, info.message, { mode: 0o600 });
        options.logger.info({ file }, 'mail written to the outbox (no SMTP server configured)');
      }
    },
  };
}
