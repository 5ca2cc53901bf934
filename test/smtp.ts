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
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps what it receives, and a mailer pointed at it. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error('parse failed')));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `smtp://127.0.0.1:${port}`;
  return {
    url,
    messages,
    mailer: createMailer({
      smtpUrl: url,
      from: 'privacy@kluis.test',
      outboxDir: '/nonexistent',
      logger: testLogger,
    }),
    to: (recipient) =>
      messages.filter((mail) =>
        (Array.isArray(mail.to) ? mail.to : [mail.to]).some((to) => to?.text.includes(recipient)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
