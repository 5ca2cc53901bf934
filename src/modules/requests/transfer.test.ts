import { lookup } from 'node:dns/promises';
import { generate } from 'selfsigned';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { unzip } from '../../../test/zip.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { buildApp } from '../../http/app.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { checkTransferUrl, isNonPublicAddress, pushPortabilityZip } from './transfer.js';
import { followLink } from '../../../test/link-button.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A name whose DNS answer the test changes between intake and sending (rebinding). */
const REBINDING_HOST = 'rebind.example';
let rebinding: Array<{ address: string; family: number }> = [];

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let endpoint: Server;
let base: string;
const received: Received[] = [];

/** A real HTTPS endpoint on loopback with a certificate made now: /inbox accepts, /broken answers 500. */
async function startEndpoint(): Promise<{ server: Server; ca: string }> {
  // Made in Node (npm `selfsigned`), so the test needs no openssl binary.
  const { private: key, cert } = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const server = createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.statusCode = request.url?.startsWith('/broken') ? 500 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, ca: cert };
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  const started = await startEndpoint();
  endpoint = started.server;
  const address = endpoint.address();
  base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  app = await buildApp({
    kernel,
    logger: testLogger,
    version: 'test',
    mailer: smtp.mailer,
    publicUrl: 'https://privacy.voiceking.example',
    transfer: {
      loopbackHostsForTests: ['127.0.0.1'],
      // rebind.example answers as `rebinding` says; every other name as the system resolves it.
      resolveForTests: async (host) =>
        host === REBINDING_HOST ? [...rebinding] : lookup(host, { all: true, verbatim: true }),
      ca: started.ca,
      timeoutMs: 20_000,
    },
  });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await new Promise<void>((resolve) => endpoint.close(() => resolve()));
  await database.close();
});

let serial = 0;
async function customer() {
  serial += 1;
  return createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: `Overdracht${serial}`,
      givenName: 'Lotte',
      email: `lotte.overdracht${serial}@mail.example`,
      phone: `+3247755${String(serial).padStart(4, '0')}`,
    },
  );
}

const mailTo = (address: string, count = 1): Promise<ParsedMail> => smtp.waitFor(address, count);

const codeIn = (mail: ParsedMail): string => /\b(\d{6})\b/.exec(mail.text ?? '')?.[1] ?? '';

function submit(body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `/t/${voiceking.slug}/privacy/requests`, payload: body });
}

async function outcomeOf(requestId: string): Promise<Record<string, unknown>> {
  const result = await runAsOwner<{ outcome: Record<string, unknown> }>(
    database.ownerUrl,
    'select outcome from rights_requests where request_id = $1',
    [requestId],
  );
  return result.rows[0]?.outcome ?? {};
}

describe('portability pushed to another organisation (VK-25, Art. 20(2))', () => {
  it('VK-25: after code verification the ZIP is streamed to the HTTPS endpoint the person named, and the letter says it was sent', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const before = received.length;
    const receipt = await submit({ kind: 'portability', email, transferTo: `${base}/inbox?case=77` });
    expect(receipt.statusCode).toBe(202);
    const { requestId } = receipt.json<{ requestId: string }>();
    expect(received.length).toBe(before);
    const verified = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
      payload: { code: codeIn(await mailTo(email)) },
    });
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    expect(received.length).toBe(before + 1);
    const push = received.at(-1) as Received;
    expect(push.path).toBe('/inbox?case=77');
    expect(push.headers['content-type']).toBe('application/zip');
    expect(push.headers['transfer-encoding']).toBe('chunked');
    expect(push.headers['x-kluis-controller']).toContain('BE0653.989.638');
    const files = await unzip(push.body);
    expect(files.get('people.json')).toContain(email);
    expect(JSON.parse(files.get('manifest.json') ?? '{}')).toMatchObject({ format: 'kluis.portability.v2' });
    const letter = await mailTo(email, 2);
    expect(letter.text).toContain('127.0.0.1');
    expect(letter.text).not.toContain('/privacy/downloads/');
    const outcome = await outcomeOf(requestId);
    expect(outcome.transfer).toEqual({ ok: true, httpStatus: 204, bytesSent: push.body.length });
    // The URL the person named is personal data: it is not kept with the request.
    const row = await runAsOwner<{ row: string }>(
      database.ownerUrl,
      'select r::text as row from rights_requests r where request_id = $1',
      [requestId],
    );
    expect(row.rows[0]?.row).not.toContain('inbox');
  });

  it('VK-25: from the account, a portability request with transferTo is pushed at once', async () => {
    const person = await customer();
    const email = person.email ?? '';
    await app.inject({ method: 'POST', url: `/t/${voiceking.slug}/account/link`, payload: { email } });
    const token = /token=([A-Za-z0-9_-]{43})/.exec((await mailTo(email)).text ?? '')?.[1] ?? '';
    const login = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/login`,
      payload: { token },
    });
    expect(login.statusCode).toBe(200);
    const before = received.length;
    const filed = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/requests`,
      headers: {
        cookie: String(login.headers['set-cookie']).split(';')[0] ?? '',
        'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken,
      },
      payload: { kind: 'portability', transferTo: `${base}/account-inbox` },
    });
    expect(filed.statusCode).toBe(200);
    expect(filed.json<{ state: string }>().state).toBe('fulfilled');
    expect(received.length).toBe(before + 1);
    expect((await unzip((received.at(-1) as Received).body)).get('people.json')).toContain(email);
  });

  it('VK-25: an http:// URL, a URL with credentials and a private-address host are refused with validation_failed and nothing is sent', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const port = new URL(base).port;
    const before = received.length;
    for (const transferTo of [
      `http://127.0.0.1:${port}/inbox`,
      `https://user:secret@127.0.0.1:${port}/inbox`,
      `https://localhost:${port}/inbox`,
      `https://[::1]:${port}/inbox`,
      'https://10.20.30.40/inbox',
      'https://172.16.0.1/inbox',
      'https://192.168.1.10/inbox',
      'https://169.254.169.254/latest/meta-data',
      'https://[fe80::1]/inbox',
      'https://[fd12:3456::1]/inbox',
      'https://[::7f00:1]/inbox',
      'https://[::ffff:192.168.1.1]/inbox',
      'https://[64:ff9b::a9fe:a9fe]/inbox',
      'not a url',
    ]) {
      const response = await submit({ kind: 'portability', email, transferTo });
      expect(response.statusCode, transferTo).toBe(400);
      expect(response.json<{ code: string; detail: string }>().code).toBe('validation_failed');
      expect(response.body).not.toContain('secret');
    }
    const wrongKind = await submit({ kind: 'access', email, transferTo: `${base}/inbox` });
    expect(wrongKind.json<{ code: string }>().code).toBe('validation_failed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toEqual([]);
    expect(received.length).toBe(before);
  });

  it('VK-25: when the endpoint fails (500) the person gets the download link as fallback', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const receipt = (await submit({ kind: 'portability', email, transferTo: `${base}/broken` })).json<{
      requestId: string;
    }>();
    const verified = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests/${receipt.requestId}/verify`,
      payload: { code: codeIn(await mailTo(email)) },
    });
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    const letter = await mailTo(email, 2);
    const link = /(https:\/\/privacy\.voiceking\.example\S+)/.exec(letter.text ?? '')?.[1] ?? '';
    expect(link).toContain('/privacy/downloads/');
    const outcome = await outcomeOf(receipt.requestId);
    expect(outcome.transfer).toMatchObject({ ok: false, httpStatus: 500, error: 'rejected_by_endpoint' });
    const download = await followLink(app, link.replace('https://privacy.voiceking.example', ''));
    expect(download.statusCode).toBe(200);
    expect((await unzip(download.rawPayload)).get('people.json')).toContain(email);
  });

  it('VK-25: an endpoint whose certificate is not trusted receives nothing', async () => {
    const settings = { loopbackHostsForTests: ['127.0.0.1'] };
    const target = await checkTransferUrl(`${base}/inbox`, settings);
    const before = received.length;
    const result = await pushPortabilityZip(target, settings, {
      controller: 'Test BV',
      writeZip: async (output) => {
        output.end(Buffer.from('PK'));
        await new Promise((resolve) => output.once('finish', resolve));
      },
    });
    expect(result).toMatchObject({ ok: false, httpStatus: null, error: 'connection_failed' });
    expect(received.length).toBe(before);
  });

  it('VK-25: the address check refuses internal ranges and accepts public ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::7f00:1',
      'fd00::1',
      '5f00::1',
      '3fff::1',
      '2001:db8::1',
    ])
      expect(isNonPublicAddress(address), address).toBe(true);
    for (const address of ['193.191.245.1', '8.8.8.8', '2a02:2c40::1', '::ffff:8.8.8.8'])
      expect(isNonPublicAddress(address), address).toBe(false);
  });

  it('VK-25: a host name that resolves to a public address at intake and to loopback at sending is refused then: nothing is sent, the outcome says destination_refused and the person gets the download link (decision 0878)', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const before = received.length;
    rebinding = [{ address: '193.191.245.1', family: 4 }];
    const receipt = await submit({
      kind: 'portability',
      email,
      transferTo: `https://${REBINDING_HOST}:${new URL(base).port}/inbox`,
    });
    expect(receipt.statusCode, receipt.body).toBe(202);
    const { requestId } = receipt.json<{ requestId: string }>();
    // The second answer points at the endpoint on this machine, which would accept the ZIP.
    rebinding = [{ address: '127.0.0.1', family: 4 }];
    const verified = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
      payload: { code: codeIn(await mailTo(email)) },
    });
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    expect(received.length).toBe(before);
    expect((await outcomeOf(requestId)).transfer).toEqual({
      ok: false,
      httpStatus: null,
      bytesSent: 0,
      error: 'destination_refused',
    });
    expect((await mailTo(email, 2)).text).toContain('/privacy/downloads/');
  });

  it('the tests’ loopback allowance opens loopback only: its host resolving to a private or link-local address is refused (decision 0878)', async () => {
    for (const address of ['10.0.0.1', '169.254.169.254', 'fd00::1']) {
      const settings = {
        loopbackHostsForTests: ['inbox.test'],
        resolveForTests: () => Promise.resolve([{ address, family: address.includes(':') ? 6 : 4 }]),
      };
      await expect(checkTransferUrl('https://inbox.test/in', settings), address).rejects.toMatchObject({
        code: 'validation_failed',
      });
    }
    const loopback = await checkTransferUrl('https://inbox.test/in', {
      loopbackHostsForTests: ['inbox.test'],
      resolveForTests: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
    });
    expect(loopback.address).toBe('127.0.0.1');
  });
});
