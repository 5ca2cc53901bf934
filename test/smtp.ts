import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createMailer, type Mailer } from '../src/platform/mailer.js';
import { testLogger } from './database.js';

export interface SmtpSink {
  url: string;
  messages: ParsedMail[];
  mailer: Mailer;
  /** Messages sent to an address, newest last. */
  to(address: string): ParsedMail[];
  /** The message as it arrived on the wire (headers and body), e.g. to verify a DKIM signature. */
  rawOf(mail: ParsedMail): string;
  /** Waits (up to 5 s) for the count-th message to an address; mail is sent after the answer. */
  waitFor(address: string, count?: number): Promise<ParsedMail>;
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps what it receives, and a mailer pointed at it. */
export async function startSmtpSink(
  options: { rejectRecipient?: (address: string) => boolean } = {},
): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const raw = new WeakMap<ParsedMail, string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      // A hard bounce, as a receiving server answers for a mailbox that does not exist.
      if (options.rejectRecipient?.(address.address)) {
        const error = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const source = Buffer.concat(chunks);
        simpleParser(source)
          .then((mail) => {
            raw.set(mail, source.toString('utf8'));
            messages.push(mail);
            callback();
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error('parse failed')));
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `smtp://127.0.0.1:${port}`;
  const to = (recipient: string): ParsedMail[] =>
    messages.filter((mail) =>
      (Array.isArray(mail.to) ? mail.to : [mail.to]).some((address) => address?.text.includes(recipient)),
    );
  return {
    url,
    messages,
    mailer: createMailer({
      smtpUrl: url,
      // A development sink: it reaches nobody (decision 0843); unsigned-mail.test.ts stands one in that delivers.
      delivers: false,
      from: 'privacy@kluis.test',
      outboxDir: '/nonexistent',
      logger: testLogger,
    }),
    to,
    rawOf: (mail) => raw.get(mail) ?? '',
    waitFor: async (recipient, count = 1) => {
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const mails = to(recipient);
        if (mails.length >= count) return mails[count - 1] as ParsedMail;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no mail ${count} to ${recipient}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
