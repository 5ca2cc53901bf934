import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';

/**
 * Attack findings A4 and A8 (issue 20): absurd dates (year 0001, 9999) are refused with 400
 * naming the field wherever a date is taken, by the one window of decision 0282; day columns are
 * answered as days.
 */

const clock = fixedClock(new Date('2026-11-29T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let officer: StaffSession;
let billing: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
  billing = await loginAs(app, kernel, voxtra, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function staff(
  session: StaffSession,
  method: 'GET' | 'POST',
  url: string,
  options: { payload?: string | object; purpose?: string; contentType?: string } = {},
) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(options.purpose ? { 'x-kluis-purpose': options.purpose } : {}),
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
    },
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  });
}

async function rows(sql: string): Promise<unknown[]> {
  return (await runAsOwner(database.ownerUrl, sql, [voxtra.tenantId])).rows;
}

const WINDOW = /must lie between 2000-01-01 and \d{4}-\d{2}-\d{2}/;

interface Issue {
  path?: string;
  line?: number;
  message: string;
}

/** The problem's code and first issue. */
function problemOf(response: { json: <T>() => T }): { code: string; issue: Issue | undefined } {
  const body = response.json<{ code: string; details?: { issues?: Issue[] } }>();
  return { code: body.code, issue: body.details?.issues?.[0] };
}

describe('absurd dates (attack A4, A8, issue 20)', () => {
  it('A4 (#20): an incident assessment with awareAt in the year 0001 is refused with 400 naming awareAt; the 72-hour clock does not start', async () => {
    const reported = await staff(officer, 'POST', '/api/v1/incidents', {
      payload: { kind: 'breach', description: 'Laptop stolen with customer export' },
    });
    expect(reported.statusCode, reported.body).toBe(201);
    const { incidentId } = reported.json<{ incidentId: number }>();
    const assessment = {
      isBreach: true,
      risk: 'high',
      riskAssessment: 'contracts leaked',
      measures: 'rotated',
      whatHappened: 'A laptop with a customer export was stolen.',
    };
    const refused = await staff(officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
      payload: { ...assessment, awareAt: '0001-01-01T00:00:00Z' },
    });
    expect(refused.statusCode, refused.body).toBe(400);
    const awareAt = problemOf(refused);
    expect(awareAt).toMatchObject({ code: 'validation_failed', issue: { path: 'awareAt' } });
    expect(awareAt.issue?.message).toMatch(WINDOW);
    expect(await rows('select aware_at, is_breach from incidents where tenant_id = $1')).toEqual([
      { aware_at: null, is_breach: false },
    ]);
    // A staff report noticed in the year 0001 is refused the same way.
    const old = await staff(officer, 'POST', '/api/v1/incidents', {
      payload: { kind: 'other', description: 'Something seen long ago', noticedAt: '0001-01-01T00:00:00Z' },
    });
    expect(old.statusCode, old.body).toBe(400);
    expect(old.json()).toMatchObject({ details: { issues: [{ path: 'noticedAt' }] } });
    // A sane one still starts the clock.
    const taken = await staff(officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
      payload: { ...assessment, awareAt: '2026-11-28T09:00:00Z' },
    });
    expect(taken.statusCode, taken.body).toBe(200);
    expect(taken.json()).toMatchObject({ deadline: '2026-12-01T09:00:00.000Z' });
  });

  it('A8 (#20): the public incident report refuses noticedOn 0001-01-01 and 9999-12-31 with 400 naming noticedOn (no longer replaced by now); nothing is filed', async () => {
    const before = await rows('select count(*)::int as n from incidents where tenant_id = $1');
    for (const noticedOn of ['0001-01-01', '9999-12-31']) {
      const response = await app.inject({
        method: 'POST',
        url: `/t/${voxtra.slug}/privacy/incident-reports`,
        payload: { kind: 'insecurity', description: 'test report long enough', noticedOn },
      });
      expect({ noticedOn, status: response.statusCode }).toEqual({ noticedOn, status: 400 });
      const problem = problemOf(response);
      expect(problem).toMatchObject({ code: 'validation_failed', issue: { path: 'noticedOn' } });
      expect(problem.issue?.message).toMatch(WINDOW);
    }
    expect(await rows('select count(*)::int as n from incidents where tenant_id = $1')).toEqual(before);
  });

  it('A8 (#20): a tariff CSV with valid_from in 0001 or 9999 is refused with 400 naming the line and valid_from, the price list kept; valid days are answered as YYYY-MM-DD', async () => {
    const header =
      'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to';
    const good = `${header}\n32,0.06,60,60,0,2020-01-01,2027-01-01\n`;
    const created = await staff(billing, 'POST', '/api/v1/tariffs', {
      payload: good,
      contentType: 'text/csv',
    });
    expect(created.statusCode, created.body).toBe(201);
    for (const day of ['0001-01-01', '9999-12-31']) {
      const response = await staff(billing, 'POST', '/api/v1/tariffs', {
        payload: `${header}\n32,0.1,1,1,0,${day},\n`,
        contentType: 'text/csv',
      });
      expect({ day, status: response.statusCode }).toEqual({ day, status: 400 });
      const problem = problemOf(response);
      expect(problem).toMatchObject({ code: 'validation_failed', issue: { line: 2 } });
      expect(problem.issue?.message).toMatch(/^valid_from: must lie between 2000-01-01/);
    }
    expect(
      await rows(
        "select to_char(valid_from at time zone 'Europe/Brussels', 'YYYY-MM-DD') as day from tariff_rates where tenant_id = $1",
      ),
    ).toEqual([{ day: '2020-01-01' }]);
    const listed = await staff(billing, 'GET', '/api/v1/tariffs');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toMatchObject({
      items: [{ prefix: '32', validFrom: '2020-01-01', validTo: '2027-01-01' }],
    });
  });

  it('A8 (#20): the accounting export refuses a period in the year 9999 with 400 naming from, not a span error', async () => {
    const response = await staff(billing, 'GET', '/api/v1/accounting/export?from=9999-12-01&to=9999-12-31', {
      purpose: 'accounting',
    });
    expect(response.statusCode, response.body).toBe(400);
    const problem = problemOf(response);
    expect(problem).toMatchObject({ code: 'validation_failed', issue: { path: 'from' } });
    expect(problem.issue?.message).toMatch(WINDOW);
    const fine = await staff(billing, 'GET', '/api/v1/accounting/export?from=2026-10-01&to=2026-10-31', {
      purpose: 'accounting',
    });
    expect(fine.statusCode, fine.body).toBe(200);
  });
});
