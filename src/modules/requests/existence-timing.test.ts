import { hash } from '@node-rs/argon2';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import type { Limit } from '../throttle/index.js';
import { DEFAULT_ANSWER_QUANTA, DEFAULT_PUBLIC_LIMITS, type PublicDoorLimits } from './limits.js';
import { settledLetterStates } from '../../../test/letters.js';

/*
 * Existence by timing (issue 11): the public doors must answer a known and an unknown person in
 * indistinguishable time. They do it by holding every answer to the next multiple of a quantum
 * (http/constant-time.ts, decision 0076), so the test checks that mechanism rather than raw
 * milliseconds, which a loaded machine makes meaningless:
 *
 * - Real HTTP on loopback (fetch against app.listen). The two kinds of request are interleaved,
 *   their order swapped every round (drift in the machine's load hits both alike), a few warm-up
 *   rounds discarded.
 * - Every answer must come no sooner than one quantum after it was sent: a lower bound, which load
 *   can only make easier to meet.
 * - A round in which either answer took two quanta or more is an overrun (the work did not fit the
 *   quantum: the door logs it, and it tells only "crossed a boundary"); it is counted, not compared.
 *   Of the rounds within one quantum, what is left beyond the quantum (the time after the hold:
 *   writing the answer, the loopback, anything the door still does for a known person after
 *   answering) is compared with the Mann-Whitney U test (rank-based, robust to outliers; normal
 *   approximation with tie correction). The door passes when |z| < 3.29 (two-sided 0.1 %).
 * - Rounds go on until 30 comparable rounds are in, at most 90. A machine so loaded that it cannot
 *   give 30 rounds within the quantum cannot resolve the question: the test is skipped and says
 *   so, rather than failing on noise or passing on nothing.
 */
const SAMPLES = 30;
const MAX_ROUNDS = 90;
const WARM_UP = 3;
const Z_LIMIT = 3.29;
// Half the production quanta: the hold is the same mechanism at any size, the doors' work fits in
// these with room when the file runs alone (the timed project), and the run takes half as long.
const QUANTA = {
  form: DEFAULT_ANSWER_QUANTA.form / 2,
  link: DEFAULT_ANSWER_QUANTA.link / 2,
  login: DEFAULT_ANSWER_QUANTA.login / 2,
};

/** The standardised Mann-Whitney U statistic of sample `a` against sample `b`. */
export function mannWhitneyZ(a: readonly number[], b: readonly number[]): number {
  const all = [...a.map((value) => ({ value, fromA: true })), ...b.map((value) => ({ value, fromA: false }))];
  all.sort((x, y) => x.value - y.value);
  const n = all.length;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]?.value === all[i]?.value) j += 1;
    const rank = (i + j + 2) / 2; // average of ranks i+1 … j+1
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    for (let k = i; k <= j; k += 1) if (all[k]?.fromA) rankSumA += rank;
    i = j + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  return variance === 0 ? 0 : (u - mean) / Math.sqrt(variance);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

// The limits are not under test here: wide enough that no sample is a 429.
const wideLimits = Object.fromEntries(
  Object.entries(DEFAULT_PUBLIC_LIMITS).map(([name, limit]: [string, Limit]) => [
    name,
    { ...limit, max: 100_000 },
  ]),
) as unknown as PublicDoorLimits;

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let app: FastifyInstance;
let base: string;
let tenant: Tenant;
let known: { email: string; subjectId: number };

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, {
    mailer: smtp.mailer,
    publicLimits: wideLimits,
    answerQuanta: QUANTA,
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  tenant = await createPolicyTenant(kernel, 'voxtra');
  const email = 'lotte.claes@mail.example';
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'customer_administration',
    },
    { subjectType: 'customer', familyName: 'Claes', givenName: 'Lotte', email },
  );
  known = { email, subjectId: person.subjectId };
  await runAsOwner(
    database.ownerUrl,
    'insert into subject_accounts (tenant_id, subject_id, password_hash, created_at) values ($1, $2, $3, now())',
    [tenant.tenantId, person.subjectId, await hash('the real portal password', { algorithm: 2 })],
  );
}, 60_000);
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

/** Times one POST (milliseconds, from sending to the full body) and checks its status. */
async function timePost(path: string, body: unknown, expected: number): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  expect(response.status).toBe(expected);
  return elapsed;
}

interface Sample {
  /** Time beyond the quantum, rounds within one quantum only. */
  known: number[];
  unknown: number[];
  z: number;
  /** Every answer's time, for the lower bound. */
  all: number[];
  rounds: number;
  overruns: number;
}

/** Interleaves known and unknown requests (order swapped every round) until SAMPLES comparable rounds. */
async function sample(
  quantum: number,
  knownRequest: () => Promise<number>,
  unknownRequest: (i: number) => Promise<number>,
): Promise<Sample> {
  const result: Sample = { known: [], unknown: [], z: 0, all: [], rounds: 0, overruns: 0 };
  for (let i = 0; i < WARM_UP + MAX_ROUNDS && result.known.length < SAMPLES; i += 1) {
    let k: number;
    let u: number;
    if (i % 2 === 0) {
      k = await knownRequest();
      u = await unknownRequest(i);
    } else {
      u = await unknownRequest(i);
      k = await knownRequest();
    }
    if (i < WARM_UP) continue;
    result.rounds += 1;
    result.all.push(k, u);
    if (k >= 2 * quantum || u >= 2 * quantum) {
      result.overruns += 1;
      continue;
    }
    result.known.push(k - quantum);
    result.unknown.push(u - quantum);
  }
  result.z = mannWhitneyZ(result.known, result.unknown);
  return result;
}

/** The door's verdict: held to the quantum, and no difference left beyond it. */
function expectIndistinguishable(
  door: string,
  quantum: number,
  result: Sample,
  skip: (note: string) => void,
): void {
  // 1 ms of slack: timers and performance.now() round differently.
  expect(
    Math.min(...result.all),
    `${door}: an answer came before its quantum of ${quantum} ms`,
  ).toBeGreaterThanOrEqual(quantum - 1);
  const line = report(door, result);
  if (result.known.length < SAMPLES) {
    skip(
      `${door}: the machine is too loaded to tell (${result.overruns} of ${result.rounds} rounds overran the quantum)`,
    );
    return;
  }
  expect(Math.abs(result.z), line).toBeLessThan(Z_LIMIT);
}

const percentile = (values: readonly number[], p: number): number =>
  [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0;

function report(door: string, result: Sample): string {
  const describe = (values: number[]) =>
    `median ${median(values).toFixed(1)} ms, p90 ${percentile(values, 0.9).toFixed(1)} ms, max ${percentile(values, 1).toFixed(1)} ms`;
  const line = `${door} (beyond the quantum): known ${describe(result.known)}; unknown ${describe(result.unknown)}; z = ${result.z.toFixed(2)}; ${result.overruns} of ${result.rounds} rounds overran`;
  if (process.env.TIMING_REPORT) process.stderr.write(`${line}\n`);
  return line;
}

describe('existence by timing (issue 11): known and unknown people answered in indistinguishable time', () => {
  it('the Mann-Whitney statistic sees a real shift and none between equal samples', () => {
    const a = Array.from({ length: 40 }, (_, i) => 20 + (i % 7));
    const shifted = a.map((value) => value + 3);
    expect(mannWhitneyZ(shifted, a)).toBeGreaterThan(Z_LIMIT);
    expect(Math.abs(mannWhitneyZ(a, [...a].reverse()))).toBeLessThan(0.01);
  });

  it('VK-26: POST /t/<slug>/privacy/requests', { timeout: 240_000 }, async (context) => {
    const path = `/t/${tenant.slug}/privacy/requests`;
    const result = await sample(
      QUANTA.form,
      () => timePost(path, { kind: 'access', email: known.email }, 202),
      (i) => timePost(path, { kind: 'access', email: `nobody${i}@nowhere.example` }, 202),
    );
    // The same work for both (decision 0190): every request wrote and sealed a code letter; the
    // sender mailed the known person's and dropped the others, after the answers.
    const requests = WARM_UP + result.rounds;
    const letters = await settledLetterStates(
      database.ownerUrl,
      tenant.tenantId,
      'request.verification_code',
    );
    expect(letters).toEqual({ sent: requests, dropped: requests });
    expectIndistinguishable('privacy/requests', QUANTA.form, result, (note) => context.skip(note));
  });

  it('VX-13: POST /t/<slug>/account/link', { timeout: 240_000 }, async (context) => {
    const path = `/t/${tenant.slug}/account/link`;
    const result = await sample(
      QUANTA.link,
      () => timePost(path, { email: known.email }, 202),
      (i) => timePost(path, { email: `nobody${i}@nowhere.example` }, 202),
    );
    expectIndistinguishable('account/link', QUANTA.link, result, (note) => context.skip(note));
  });

  it('VX-13: POST /t/<slug>/account/login with a wrong password', { timeout: 240_000 }, async (context) => {
    const path = `/t/${tenant.slug}/account/login`;
    const result = await sample(
      QUANTA.login,
      () => timePost(path, { email: known.email, password: 'not the password at all' }, 401),
      (i) =>
        timePost(path, { email: `nobody${i}@nowhere.example`, password: 'not the password at all' }, 401),
    );
    expectIndistinguishable('account/login', QUANTA.login, result, (note) => context.skip(note));
  });
});
