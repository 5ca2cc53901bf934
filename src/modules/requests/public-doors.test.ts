import { hash } from '@node-rs/argon2';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { DEFAULT_PUBLIC_LIMITS } from './limits.js';

// The public doors under abuse (issue 11): limits per client address, per typed address and per
// tenant, counted in PostgreSQL so that every Kluis process sees the same counts. Two app instances
// on one database stand for two processes behind a balancer.
let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let first: FastifyInstance;
let second: FastifyInstance;
let voiceking: Tenant;
const NO_HOLD = { form: 0, link: 0, login: 0 };
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));
let serial = 0;
const newAddress = (): string => `10.1.${Math.floor(serial / 250)}.${(serial++ % 250) + 1}`;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  // Answers are not held here (existence-timing.test.ts is about that): these tests count.
  const options = { mailer: smtp.mailer, publicUrl: 'https://privacy.example', answerQuanta: NO_HOLD };
  first = await createTestApp(kernel, options);
  second = await createTestApp(kernel, options);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await first.close();
  await second.close();
  await smtp.close();
  await database.close();
});

async function customer(tenant: Tenant = voiceking): Promise<{ subjectId: number; email: string }> {
  serial += 1;
  const email = `an.peeters${serial}@mail.example`;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: `Peeters${serial}`, givenName: 'An', email },
  );
  return { subjectId: person.subjectId, email };
}

function submit(app: FastifyInstance, email: string, remoteAddress: string, tenant: Tenant = voiceking) {
  return app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/requests`,
    remoteAddress,
    payload: { kind: 'access', email },
  });
}

function guess(app: FastifyInstance, requestId: string, code: string, remoteAddress: string) {
  return app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
    remoteAddress,
    payload: { code },
  });
}

/** Waits until the tenant's letter outbox is empty; then how many letters were sent and dropped. */
async function settledLetters(tenant: Tenant): Promise<Record<string, number>> {
  for (let round = 0; round < 200; round += 1) {
    const rows = await runAsOwner<{ state: string; count: string }>(
      database.ownerUrl,
      'select state, count(*) from sealed_letters where tenant_id = $1 group by state',
      [tenant.tenantId],
    );
    const states = Object.fromEntries(rows.rows.map((row) => [row.state, Number(row.count)]));
    if (!states.pending) return states;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('letters still pending');
}

const errorCode = (response: LightMyRequestResponse): string => response.json<{ code?: string }>().code ?? '';

describe('rate limits on the public request form (issue 11)', () => {
  it('VK-26, A22: one network gets 429 on its 6th request for one e-mail address within the hour (counted across two app instances), its refused posts count nowhere, and the person still files from another network and gets the code', async () => {
    const victim = await customer();
    const attacker = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < DEFAULT_PUBLIC_LIMITS.formByTarget.max; i += 1)
      statuses.push((await submit(i % 2 === 0 ? first : second, victim.email, attacker)).statusCode);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const sixth = await submit(second, victim.email, attacker);
    expect(sixth.statusCode).toBe(429);
    expect(errorCode(sixth)).toBe('rate_limited');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    expect(errorCode(await submit(first, victim.email, attacker))).toBe('rate_limited');
    // An address that matches no one is limited alike: a 429 says nothing about who exists.
    const stranger = `stranger${serial}@nowhere.example`;
    for (let i = 0; i < DEFAULT_PUBLIC_LIMITS.formByTarget.max; i += 1)
      expect((await submit(first, stranger, attacker)).statusCode).toBe(202);
    expect(errorCode(await submit(second, stranger, attacker))).toBe('rate_limited');
    // The person, from their own network, is not shut out by the attacker's posts.
    expect((await submit(second, victim.email, newAddress())).statusCode).toBe(202);
    await smtp.waitFor(victim.email, 6);
    const stored = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      'select count(*) from rights_requests where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, victim.subjectId],
    );
    expect(Number(stored.rows[0]?.count)).toBe(6);
    // Refused near the end of the hour, the attacker's network is let through once the hour is over.
    clock.advance(59 * 60 * 1000);
    expect(errorCode(await submit(first, victim.email, attacker))).toBe('rate_limited');
    clock.advance(60 * 1000);
    expect((await submit(first, victim.email, attacker)).statusCode).toBe(202);
  });

  it('A22: past 20 code mails a day to one e-mail address, from however many networks, a request is still filed and answered alike, but no code is mailed; the next day codes are mailed again', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const victim = await customer(tenant);
    const cap = DEFAULT_PUBLIC_LIMITS.formMailsByTarget.max;
    expect(cap).toBe(20);
    for (let i = 0; i < cap; i += 1) {
      // Five from each network: a fresh network every fifth post.
      const network = `10.9.${Math.floor(i / DEFAULT_PUBLIC_LIMITS.formByTarget.max)}.1`;
      expect((await submit(i % 2 === 0 ? first : second, victim.email, network, tenant)).statusCode).toBe(
        202,
      );
    }
    const over = await submit(first, victim.email, newAddress(), tenant);
    expect(over.statusCode).toBe(202);
    expect(Object.keys(over.json<Record<string, unknown>>()).sort()).toEqual(
      Object.keys(
        (await submit(first, `other${serial}@nowhere.example`, newAddress(), tenant)).json(),
      ).sort(),
    );
    await smtp.waitFor(victim.email, cap);
    const states = await settledLetters(tenant);
    const filed = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      'select count(*) from rights_requests where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, victim.subjectId],
    );
    expect(Number(filed.rows[0]?.count)).toBe(cap + 1);
    // 20 codes sent; the 21st letter and the stranger's had no recipient.
    expect(states).toEqual({ sent: cap, dropped: 2 });
    expect(smtp.to(victim.email)).toHaveLength(cap);
    clock.advance(24 * 60 * 60 * 1000);
    expect((await submit(second, victim.email, newAddress(), tenant)).statusCode).toBe(202);
    await smtp.waitFor(victim.email, cap + 1);
  });

  it("A22: the portal's request form: an outsider's 6th objection for an address from one network gets the 429 page; the person's own from another network is filed (303) and mailed its code", async () => {
    const victim = await customer();
    const token = 'A'.repeat(43);
    const object = (remoteAddress: string) =>
      first.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/rights/objection`,
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `kluis_form=${token}` },
        payload: new URLSearchParams({ email: victim.email, csrf: token, language: 'en' }).toString(),
      });
    const outsider = newAddress();
    for (let i = 0; i < DEFAULT_PUBLIC_LIMITS.formByTarget.max; i += 1)
      expect((await object(outsider)).statusCode).toBe(303);
    expect((await object(outsider)).statusCode).toBe(429);
    const own = await object(newAddress());
    expect(own.statusCode).toBe(303);
    expect(own.headers.location).toMatch(new RegExp(`^/t/${voiceking.slug}/rights/requests/`));
    await smtp.waitFor(victim.email, DEFAULT_PUBLIC_LIMITS.formByTarget.max + 1);
  });

  it('VK-26: one client address gets 429 after 20 requests within the hour, on either instance; another address is unaffected', async () => {
    const address = newAddress();
    for (let i = 0; i < DEFAULT_PUBLIC_LIMITS.formByAddress.max; i += 1) {
      const response = await submit(
        i % 2 === 0 ? first : second,
        `flood${i}-${serial}@nowhere.example`,
        address,
      );
      expect(response.statusCode).toBe(202);
    }
    const over = await submit(first, `flood-x${serial}@nowhere.example`, address);
    expect(over.statusCode).toBe(429);
    expect(errorCode(over)).toBe('rate_limited');
    expect((await submit(second, `flood-y${serial}@nowhere.example`, newAddress())).statusCode).toBe(202);
  });

  it('VK-26: a tenant as a whole gets 429 past its hourly limit, whoever asks; other tenants are unaffected', async () => {
    const small = await createTestApp(kernel, {
      mailer: smtp.mailer,
      answerQuanta: NO_HOLD,
      publicLimits: {
        ...DEFAULT_PUBLIC_LIMITS,
        formByTenant: { ...DEFAULT_PUBLIC_LIMITS.formByTenant, max: 3 },
      },
    });
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const other = await createPolicyTenant(kernel, 'voxtra');
    for (let i = 0; i < 3; i += 1)
      expect(
        (await submit(small, `many${i}-${serial}@nowhere.example`, newAddress(), tenant)).statusCode,
      ).toBe(202);
    const over = await submit(small, `many-x${serial}@nowhere.example`, newAddress(), tenant);
    expect(errorCode(over)).toBe('rate_limited');
    expect((await submit(small, `many-y${serial}@nowhere.example`, newAddress(), other)).statusCode).toBe(
      202,
    );
    await small.close();
  });

  it('VK-26: code guesses are limited across requests: after 30 guesses from one address even the right code of a fresh request gets 429', async () => {
    const attacker = newAddress();
    let guesses = 0;
    // Five wrong guesses on each of six requests (each request allows five on its own).
    for (let r = 0; r < 6; r += 1) {
      const target = await customer();
      const receipt = (await submit(first, target.email, newAddress())).json<{ requestId: string }>();
      for (let g = 0; g < 5; g += 1) {
        const response = await guess(r % 2 === 0 ? first : second, receipt.requestId, '000000', attacker);
        expect(response.statusCode).toBe(400);
        guesses += 1;
      }
    }
    expect(guesses).toBe(DEFAULT_PUBLIC_LIMITS.codeByAddress.max);
    const victim = await customer();
    const receipt = (await submit(first, victim.email, newAddress())).json<{ requestId: string }>();
    const code = /\b(\d{6})\b/.exec((await smtp.waitFor(victim.email)).text ?? '')?.[1] ?? '';
    const refused = await guess(second, receipt.requestId, code, attacker);
    expect(refused.statusCode).toBe(429);
    expect(errorCode(refused)).toBe('rate_limited');
    // The refusal spent none of the request's own five attempts: its owner still gets in.
    const owner = await guess(first, receipt.requestId, code, newAddress());
    expect(owner.statusCode).toBe(200);
  });
});

describe('privacy portal: limits shared by processes, slow-down instead of a lock (issue 11)', () => {
  it('VX-13: five wrong portal passwords do not lock the person out: the next try waits 1 s (429, Retry-After), then the right password gets in', async () => {
    const person = await customer();
    const password = 'my own long portal password';
    await runAsOwner(
      database.ownerUrl,
      'insert into subject_accounts (tenant_id, subject_id, password_hash, created_at) values ($1, $2, $3, now())',
      [voiceking.tenantId, person.subjectId, await hash(password, { algorithm: 2 })],
    );
    const login = (app: FastifyInstance, secret: string) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/login`,
        remoteAddress: newAddress(),
        payload: { email: person.email, password: secret },
      });
    for (let i = 0; i < DEFAULT_PUBLIC_LIMITS.loginByAccount.max; i += 1)
      expect((await login(i % 2 === 0 ? first : second, `wrong-${i}`)).statusCode).toBe(401);
    const slowed = await login(second, password);
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    clock.advance(1000);
    expect((await login(first, password)).statusCode).toBe(200);
  });

  it('VX-13, A22: login links: one network gets 429 on the 4th asked for one address within the hour, whichever instance is asked; the person still gets a link from another network', async () => {
    const person = await customer();
    // Two addresses of one IPv6 /64 are one network.
    const ask = (app: FastifyInstance, remoteAddress: string) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/link`,
        remoteAddress,
        payload: { email: person.email },
      });
    expect([
      (await ask(first, '2001:db8:7:1::1')).statusCode,
      (await ask(second, '2001:db8:7:1:aaaa::2')).statusCode,
      (await ask(first, '2001:0db8:0007:0001:ffff:1:2:3')).statusCode,
    ]).toEqual([202, 202, 202]);
    const fourth = await ask(second, '2001:db8:7:1::9');
    expect(fourth.statusCode).toBe(429);
    expect(errorCode(fourth)).toBe('rate_limited');
    expect((await ask(first, '2001:db8:7:2::1')).statusCode).toBe(202);
    const link = await smtp.waitFor(person.email, 4);
    expect(link.text).toContain(`/t/${voiceking.slug}/account/login?token=`);
  });
});
