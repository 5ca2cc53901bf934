/**
 * Decision 1280 (attack S25-6): where several purposes of a role fit a screen and the staff member
 * has not chosen one, the screen reads nothing about a person until they do, so no person's trail
 * shows a look under a purpose nobody chose. Screenshots go to
 * test-results/screenshots/back-office-purpose-choice/.
 */
import { describe, expect, it } from 'vitest';
import { createPerson } from '../src/modules/parties/index.js';
import { loginAs, requestAs } from './http.js';
import { createPolicyTenant } from './kernel.js';
import type { Page } from './browser.js';
import {
  backOfficeForSuite,
  choosePurpose,
  expectNoPageProblems,
  look,
  pageWithSession,
} from './staff-browser.js';

const env = backOfficeForSuite('back-office-purpose-choice');

const SALES = { kind: 'staff', staffId: 1, role: 'sales' } as const;

/** The API requests of the page from now on, each with the purpose it declared. */
function apiRequests(page: Page): Array<{ path: string; purpose: string | undefined }> {
  const asked: Array<{ path: string; purpose: string | undefined }> = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/'))
      asked.push({ path: `${url.pathname}${url.search}`, purpose: request.headers()['x-kluis-purpose'] });
  });
  return asked;
}

interface TrailEntry {
  actor: { kind: string; id: string };
  role: string | null;
  purpose: string | null;
  action: string;
  categories: string[];
}

describe('a screen with several fitting purposes asks before it reads (decision 1280)', () => {
  it('voiceking: a privacy officer opening a person for the first time is asked why (in English), nothing of the person is read and no look is on their trail until a purpose is chosen; then the read is under the chosen one; a voxtra technician, with one purpose for people, reads at once', async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Keuzes', givenName: 'Kato', email: 'kato@mail.example' },
    );
    const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
    const trailOf = async (): Promise<TrailEntry[]> => {
      const answer = await requestAs(env.app, officer)(
        'GET',
        `/api/v1/people/${person.subjectId}/audit?limit=100`,
      );
      expect(answer.statusCode).toBe(200);
      return answer
        .json<{ items: TrailEntry[] }>()
        .items.filter(
          (entry) =>
            entry.actor.kind === 'staff' &&
            entry.actor.id === String(officer.staffId) &&
            entry.role === 'privacy_officer',
        );
    };
    // What the screen reads under its own purpose: the person, their contracts and invoices.
    const personReads = (asked: Array<{ path: string; purpose: string | undefined }>) =>
      asked.filter(
        (request) =>
          request.path === `/api/v1/people/${person.subjectId}` ||
          request.path.startsWith(`/api/v1/people/${person.subjectId}?`) ||
          /^\/api\/v1\/(contracts|invoices)\?/.test(request.path),
      );

    const page = await pageWithSession(env, officer, 'en-GB');
    const asked = apiRequests(page);
    await page.goto(`${env.baseUrl}/people/${person.subjectId}`);
    const picker = page.getByRole('main').getByTestId('purpose-picker');
    await picker.waitFor();
    expect(await picker.getAttribute('data-must-choose')).toBe('true');
    expect(await picker.getAttribute('data-purpose')).toBeNull();
    await page.getByText('Choose why you open this screen').first().waitFor();
    await look(env.browser, page, 'officer-person-choose');
    // The rights cards (restriction, holds, undeclared consents, trail) wait for the choice too
    // (attack S27-1): nothing about the person is asked, and no look of this officer is on the
    // trail but the test's own reading of it.
    await page.waitForLoadState('networkidle');
    expect(await page.getByTestId('audit-trail').count()).toBe(0);
    expect(personReads(asked)).toEqual([]);
    const aboutPerson = new RegExp(`/${person.subjectId}(/|\\?|$)|subjectId=${person.subjectId}(&|$)`);
    expect(asked.filter((request) => aboutPerson.test(request.path))).toEqual([]);
    expect(await page.getByText('kato@mail.example').count()).toBe(0);
    const before = await trailOf();
    expect(before.filter((entry) => entry.action !== 'audit.read')).toEqual([]);

    await choosePurpose(page, 'rights_requests');
    await page.getByText('kato@mail.example').waitFor();
    expect(await picker.getAttribute('data-purpose')).toBe('rights_requests');
    const reads = personReads(asked);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.map((request) => request.purpose)).toEqual(reads.map(() => 'rights_requests'));
    const after = await trailOf();
    const personRead = after.filter(
      (entry) => entry.action === 'read' && entry.categories.includes('user.contact.email'),
    );
    expect(personRead.map((entry) => entry.purpose)).toEqual(['rights_requests']);
    expect(after.map((entry) => entry.purpose)).toEqual(after.map(() => 'rights_requests'));
    await look(env.browser, page, 'officer-person-chosen');

    // The choice is kept for this screen: the next person opens under it at once.
    await page.reload();
    await page.getByText('kato@mail.example').waitFor();
    expect(await page.getByRole('main').getByTestId('purpose-picker').getAttribute('data-purpose')).toBe(
      'rights_requests',
    );
    expectNoPageProblems(env, page);
    await page.context().close();

    // One purpose fits: it is used at once, said as a badge, not asked.
    const voxtra = await createPolicyTenant(env.kernel, 'voxtra');
    const customer = await createPerson(
      env.kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'customer_administration',
      },
      { subjectType: 'customer', familyName: 'Eenduidig', givenName: 'Elke', email: 'elke@mail.example' },
    );
    const technician = await loginAs(env.app, env.kernel, voxtra, 'technician');
    const technicianPage = await pageWithSession(env, technician, 'en-GB');
    const technicianAsked = apiRequests(technicianPage);
    await technicianPage.goto(`${env.baseUrl}/people/${customer.subjectId}`);
    await technicianPage.getByRole('heading', { name: 'Elke Eenduidig', level: 1 }).waitFor();
    expect(await technicianPage.getByRole('main').getByTestId('purpose-picker').count()).toBe(0);
    expect(await technicianPage.getByTestId('purpose').first().getAttribute('data-purpose')).toBe(
      'orders_deliveries',
    );
    expect(
      technicianAsked
        .filter((request) => request.path.startsWith(`/api/v1/people/${customer.subjectId}`))
        .map((request) => request.purpose),
    ).toContain('orders_deliveries');
    expectNoPageProblems(env, technicianPage);
    await technicianPage.context().close();
  });
});
