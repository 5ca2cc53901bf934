import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import type { FastifyInstance } from 'fastify';
import jsqrModule from 'jsqr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { ROOT } from '../../../test/cli.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import {
  billingContext,
  contractPurpose,
  insertCalls,
  prepareTenant,
  startContract,
  SYSTEM,
} from './billing.test-helpers.js';
import { epcPayload, EPC_MAX_BYTES } from './epc-qr.js';
import { setContractBillingOptions } from './contract-options.service.js';
import { getInvoiceHtml } from './documents.service.js';
import { addBankAccount } from './financial.service.js';
import { runInvoices } from './invoice-run.service.js';
import { PDF_CALL_LIST_CAP, printable } from './invoice.pdf.js';

// jsqr is CommonJS with a default export: whichever way the loader hands it over.
const jsQR =
  (jsqrModule as unknown as { default?: typeof jsqrModule.default }).default ??
  (jsqrModule as unknown as typeof jsqrModule.default);

const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots', 'invoice-pdf');
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let billing: StaffSession;
let catalogue: Awaited<ReturnType<typeof prepareTenant>>;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  billing = await loginAs(app, kernel, voiceking, 'billing');
  catalogue = await prepareTenant(kernel, voiceking);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function get(url: string, purpose = 'billing') {
  return app.inject({
    method: 'GET',
    url,
    headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': purpose },
  });
}

function post(url: string, payload: unknown) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      cookie: billing.cookie,
      'x-csrf-token': billing.csrfToken,
      'x-kluis-purpose': 'billing',
      'idempotency-key': `pdf-${Math.random().toString(36).slice(2)}`,
    },
    payload: payload as string,
  });
}

async function customer(familyName: string, preferredLanguage: 'nl' | 'fr' | 'en'): Promise<number> {
  const person = await createPerson(
    kernel,
    { tenantId: voiceking.tenantId, actor: SYSTEM, purpose: contractPurpose(voiceking) },
    {
      subjectType: 'customer',
      familyName,
      givenName: 'Élise',
      preferredLanguage,
      address: { street: 'Rue de la Station 4', postalCode: '7500', city: 'Tournai', country: 'BE' },
    },
  );
  await startContract(kernel, voiceking, person.subjectId, {
    startDate: '2026-10-01',
    lines: [{ productId: catalogue.subscription }],
  });
  return person.subjectId;
}

type PdfDocument = Awaited<
  ReturnType<typeof import('pdfjs-dist/legacy/build/pdf.mjs').getDocument>['promise']
>;

async function openPdf(body: Buffer): Promise<PdfDocument> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjs.getDocument({ data: new Uint8Array(body), useSystemFonts: false, isEvalSupported: false })
    .promise;
}

/** The PDF's text, page after page, as a reader's copy-paste would give it. */
async function textOf(pdf: PdfDocument): Promise<string> {
  const pages: string[] = [];
  for (let number = 1; number <= pdf.numPages; number += 1) {
    const content = await (await pdf.getPage(number)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  // Lines wrap where the layout wants: compare words, not line breaks.
  return pages.join(' ').replace(/\s+/g, ' ');
}

/**
 * Renders the first page (pdf.js on @napi-rs/canvas) and reads the QR code a phone would see; the
 * page is kept as test-results/screenshots/invoice-pdf/<name>.png to look at.
 */
async function qrOf(pdf: PdfDocument, name: string): Promise<string | null> {
  const page = await pdf.getPage(1);
  const viewport = page.getViewport({ scale: 3 });
  const canvas = createCanvas(Math.ceil(viewport.width), Math.ceil(viewport.height));
  const context = canvas.getContext('2d');
  context.fillStyle = 'white';
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({
    // @napi-rs/canvas stands in for the DOM canvas pdf.js draws on in a browser.
    canvas: canvas as never,
    canvasContext: context as never,
    viewport,
  }).promise;
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(path.join(SCREENSHOTS, `${name}.png`), await canvas.encode('png'));
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const code = jsQR(new Uint8ClampedArray(pixels.data), pixels.width, pixels.height);
  return code === null ? null : new TextDecoder('utf-8').decode(new Uint8Array(code.binaryData));
}

describe('documents for people: the PDF invoice and credit note (issue 22)', () => {
  it('VX-3: the PDF invoice is written in each customer’s language with the amounts, the structured communication and an EPC QR code a banking app reads; its credit note and a direct-debit invoice carry no code', async () => {
    const dutch = await customer('Vermeulen', 'nl');
    const french = await customer('Dubois', 'fr');
    const collected = await customer('Lambert', 'en');
    await addBankAccount(kernel, billingContext(voiceking), collected, {
      iban: 'BE71 0961 2345 6769',
      directDebitMandate: 'MANDATE-LAMBERT',
      mandateSignedOn: '2026-09-20',
    });
    const run = await post('/api/v1/invoice-runs', { period: '2026-10', callsPurpose: 'call_billing' });
    expect(run.statusCode, run.body).toBe(200);
    const items = (await get('/api/v1/invoices?period=2026-10')).json<{
      items: Array<{
        invoiceId: number;
        subjectId: number;
        invoiceNumber: string;
        structuredCommunication: string;
      }>;
    }>().items;
    const invoiceOf = (subjectId: number) => {
      const found = items.find((item) => item.subjectId === subjectId);
      if (!found) throw new Error(`no invoice for ${subjectId}`);
      return found;
    };

    // €15.00 + 21 % VAT = €18.15, in Dutch.
    const nl = invoiceOf(dutch);
    const nlResponse = await get(`/api/v1/invoices/${nl.invoiceId}/pdf`);
    expect(nlResponse.statusCode).toBe(200);
    expect(nlResponse.headers['content-type']).toBe('application/pdf');
    expect(nlResponse.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const nlPdf = await openPdf(nlResponse.rawPayload);
    const nlText = await textOf(nlPdf);
    const nlOgm = parseStructuredCommunication(nl.structuredCommunication);
    if (!nlOgm.ok) throw new Error('bad structured communication');
    expect(nlText).toContain(`Factuur ${nl.invoiceNumber}`);
    expect(nlText).toContain('Vervaldag');
    expect(nlText).toContain('05/12/2026');
    expect(nlText).toContain('Totaal exclusief btw');
    expect(nlText).toContain('€ 15,00');
    expect(nlText).toContain('Btw 21 % op € 15,00');
    expect(nlText).toContain('€ 3,15');
    expect(nlText).toContain('€ 18,15');
    expect(nlText).toContain('gestructureerde mededeling');
    expect(nlText).toContain(nlOgm.formatted);
    expect(nlText).toContain('BE68 5390 0754 7034');
    expect(nlText).not.toContain('Invoice');
    // The code on the page, read back as a phone would: exactly the EPC069-12 text.
    const expectedQr = [
      'BCD',
      '002',
      '1',
      'SCT',
      'GKCCBEBB',
      'VoiceKing CVBA',
      'BE68539007547034',
      'EUR18.15',
      '',
      nlOgm.digits,
    ].join('\n');
    expect(await qrOf(nlPdf, 'invoice-nl')).toBe(expectedQr);

    // The same invoice of a French-speaking customer, in French, HTML included.
    const fr = invoiceOf(french);
    const frOgm = parseStructuredCommunication(fr.structuredCommunication);
    if (!frOgm.ok) throw new Error('bad structured communication');
    const frPdf = await openPdf((await get(`/api/v1/invoices/${fr.invoiceId}/pdf`)).rawPayload);
    const frText = await textOf(frPdf);
    expect(frText).toContain(`Facture ${fr.invoiceNumber}`);
    expect(frText).toContain('Échéance');
    expect(frText).toContain('Total hors TVA');
    expect(frText).toContain('TVA 21 % sur 15,00 €');
    expect(frText).toContain('18,15 €');
    expect(frText).toContain('communication structurée');
    expect(frText).toContain(frOgm.formatted);
    expect(frText).toContain('Élise Dubois');
    expect(frText).not.toContain('Factuur');
    expect(await qrOf(frPdf, 'invoice-fr')).toBe(expectedQr.replace(nlOgm.digits, frOgm.digits));
    const frHtml = (await get(`/api/v1/invoices/${fr.invoiceId}/html`)).body;
    expect(frHtml).toContain('<html lang="fr">');
    expect(frHtml).toContain(`Facture ${fr.invoiceNumber}`);
    expect(frHtml).toContain('Total hors TVA');
    expect(frHtml).toContain(`<strong>${frOgm.formatted}</strong>`);
    expect(frHtml).not.toContain('Total excluding VAT');

    // Collected by direct debit: the customer does not transfer, so no QR and no transfer text.
    const dd = invoiceOf(collected);
    const ddPdf = await openPdf((await get(`/api/v1/invoices/${dd.invoiceId}/pdf`)).rawPayload);
    const ddText = await textOf(ddPdf);
    expect(ddText).toContain(`Invoice ${dd.invoiceNumber}`);
    expect(ddText).toContain('Collected by SEPA direct debit (mandate MANDATE-LAMBERT)');
    expect(ddText).not.toContain('Please pay');
    expect(await qrOf(ddPdf, 'invoice-direct-debit-en')).toBeNull();

    // The credit note: in the invoice's language, nothing to pay, no QR code.
    const note = await post(`/api/v1/invoices/${fr.invoiceId}/credit-notes`, { reasonCode: 'goodwill' });
    expect(note.statusCode, note.body).toBe(201);
    const credit = note.json<{ invoiceId: number; invoiceNumber: string }>();
    const notePdf = await openPdf((await get(`/api/v1/invoices/${credit.invoiceId}/pdf`)).rawPayload);
    const noteText = await textOf(notePdf);
    expect(noteText).toContain(`Note de crédit ${credit.invoiceNumber}`);
    expect(noteText).toContain(`relative à la facture ${fr.invoiceNumber}`);
    expect(noteText).toContain('18,15 €');
    expect(noteText).not.toContain('communication structurée');
    expect(await qrOf(notePdf, 'credit-note-fr')).toBeNull();

    // A partial credit (€5.00 + VAT): its line in Dutch; the invoice now asks for what is left.
    const partial = await post(`/api/v1/invoices/${nl.invoiceId}/credit-notes`, {
      reasonCode: 'goodwill',
      amountExclVatCents: 500,
    });
    expect(partial.statusCode, partial.body).toBe(201);
    const partialPdf = await openPdf(
      (await get(`/api/v1/invoices/${partial.json<{ invoiceId: number }>().invoiceId}/pdf`)).rawPayload,
    );
    expect(await textOf(partialPdf)).toContain(`Correctie van factuur ${nl.invoiceNumber}`);
    const nlAfter = await openPdf((await get(`/api/v1/invoices/${nl.invoiceId}/pdf`)).rawPayload);
    const nlAfterText = await textOf(nlAfter);
    expect(nlAfterText).toContain('Gecrediteerd € 6,05');
    expect(nlAfterText).toContain('Te betalen € 12,10');
    expect(await qrOf(nlAfter, 'invoice-nl-partly-credited')).toBe(
      expectedQr.replace('EUR18.15', 'EUR12.10'),
    );

    // The gate as for the HTML: a declared purpose that does not cover invoices is refused.
    const refused = await get(`/api/v1/invoices/${nl.invoiceId}/pdf`, 'marketing_email');
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    expect(refused.headers['content-type']).toContain('application/problem+json');
  });
});

describe('the PDF of an invoice with many itemised calls (decision 0312)', () => {
  it('VX-3: the PDF lists at most the first 1,000 calls and says, in the customer’s language, how many are not listed and that the HTML version has them all; the HTML lists every call', async () => {
    expect(PDF_CALL_LIST_CAP).toBe(1000);
    const extra = 50;
    const total = PDF_CALL_LIST_CAP + extra;
    // A tenant of its own, so that its invoice run sees only this customer.
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const staff = await loginAs(app, kernel, tenant, 'billing');
    const tenantCatalogue = await prepareTenant(kernel, tenant);
    const person = await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
      {
        subjectType: 'customer',
        familyName: 'Talker',
        givenName: 'Tom',
        preferredLanguage: 'en',
        address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    const contract = await startContract(kernel, tenant, person.subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: tenantCatalogue.subscription }],
    });
    await setContractBillingOptions(kernel, billingContext(tenant), contract, { itemisedCalls: true });
    const destinationOf = (n: number) => `+32470${String(n).padStart(6, '0')}`;
    await insertCalls(
      kernel,
      tenant,
      Array.from({ length: total }, (_, n) => ({
        subjectId: person.subjectId,
        startedAt: new Date(Date.UTC(2026, 9, 2, 8, 0, 0) + n * 600_000).toISOString(),
        destination: destinationOf(n),
        seconds: 30,
        costMicros: 10_000,
      })),
    );
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const headers = {
      cookie: staff.cookie,
      'x-csrf-token': staff.csrfToken,
      'x-kluis-purpose': 'billing',
    };
    const list = await app.inject({ method: 'GET', url: '/api/v1/invoices?period=2026-10', headers });
    const invoice = list
      .json<{ items: Array<{ invoiceId: number; subjectId: number }> }>()
      .items.find((item) => item.subjectId === person.subjectId);
    if (!invoice) throw new Error('no invoice');

    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/invoices/${invoice.invoiceId}/pdf?callsPurpose=call_billing`,
      headers,
    });
    expect(response.statusCode, response.body).toBe(200);
    const pdf = await openPdf(response.rawPayload);
    const text = await textOf(pdf);
    const listed = text.match(/\+32470\d{6}/g) ?? [];
    expect(listed).toHaveLength(PDF_CALL_LIST_CAP);
    expect(new Set(listed).size).toBe(PDF_CALL_LIST_CAP);
    expect(text).toContain(destinationOf(0));
    expect(text).toContain(destinationOf(PDF_CALL_LIST_CAP - 1));
    expect(text).not.toContain(destinationOf(PDF_CALL_LIST_CAP));
    expect(text).toContain(
      `This PDF lists the first ${PDF_CALL_LIST_CAP} calls; ${extra} calls are not listed.`,
    );
    expect(text).toContain('The full list is in the HTML version of this invoice or available on request.');
    // The per-destination-group summary of the invoice covers all of them.
    expect(text).toContain(`Calls to Belgian mobile numbers: ${total} calls`);
    expect(pdf.numPages).toBeLessThanOrEqual(30);

    const html = await app.inject({
      method: 'GET',
      url: `/api/v1/invoices/${invoice.invoiceId}/html?callsPurpose=call_billing`,
      headers,
    });
    expect(html.statusCode).toBe(200);
    expect(html.body.match(/\+32470\d{6}/g) ?? []).toHaveLength(total);
    expect(html.body).not.toContain('are not listed');
    // A14: the list is read page by page while the page is sent; pages of 7 calls (151 reads)
    // give the very same page: every call once, in the order they were made.
    const paged = await getInvoiceHtml(kernel, billingContext(tenant), invoice.invoiceId, {
      callsPurpose: 'call_billing',
      pageSize: 7,
    });
    expect(paged).toBe(html.body);
    expect(paged.match(/\+32470\d{6}/g)).toEqual(Array.from({ length: total }, (_, n) => destinationOf(n)));
  });
});

describe('the purpose declared for the itemised calls (issue 10 attack, decision 0061)', () => {
  it('an unknown callsPurpose on the PDF, the HTML or an invoice run is a 400 naming the parameter, never a document without calls', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const staff = await loginAs(app, kernel, tenant, 'billing');
    const tenantCatalogue = await prepareTenant(kernel, tenant);
    const person = await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
      {
        subjectType: 'customer',
        familyName: 'Beller',
        givenName: 'Bo',
        preferredLanguage: 'en',
        address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    const contract = await startContract(kernel, tenant, person.subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: tenantCatalogue.subscription }],
    });
    await setContractBillingOptions(kernel, billingContext(tenant), contract, { itemisedCalls: true });
    await insertCalls(kernel, tenant, [
      {
        subjectId: person.subjectId,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470123456',
        seconds: 60,
        costMicros: 20_000,
      },
    ]);
    const headers = { cookie: staff.cookie, 'x-csrf-token': staff.csrfToken, 'x-kluis-purpose': 'billing' };
    const bogusRun = await app.inject({
      method: 'POST',
      url: '/api/v1/invoice-runs',
      headers,
      payload: { period: '2026-10', callsPurpose: 'no_such_purpose' },
    });
    expect(bogusRun.statusCode).toBe(400);
    expect(bogusRun.json()).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'body/callsPurpose', message: 'unknown purpose' }] },
    });
    const none = await app.inject({ method: 'GET', url: '/api/v1/invoices?period=2026-10', headers });
    expect(none.json<{ items: unknown[] }>().items).toEqual([]);

    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const list = await app.inject({ method: 'GET', url: '/api/v1/invoices?period=2026-10', headers });
    const invoiceId = list.json<{ items: Array<{ invoiceId: number }> }>().items[0]?.invoiceId;
    for (const format of ['pdf', 'html']) {
      const listed = await app.inject({
        method: 'GET',
        url: `/api/v1/invoices/${invoiceId}/${format}?callsPurpose=call_billing`,
        headers,
      });
      expect(listed.statusCode).toBe(200);
      for (const bogus of ['no_such_purpose', 'constructor']) {
        const refused = await app.inject({
          method: 'GET',
          url: `/api/v1/invoices/${invoiceId}/${format}?callsPurpose=${bogus}`,
          headers,
        });
        expect(refused.statusCode, `${format} ${bogus}`).toBe(400);
        expect(refused.headers['content-type']).toContain('application/problem+json');
        const problem = refused.json<{ code: string; details: { validPurposes: string[] } }>();
        expect(problem).toMatchObject({
          code: 'validation_failed',
          details: { issues: [{ path: 'query/callsPurpose', message: 'unknown purpose' }] },
        });
        expect(problem.details.validPurposes).toContain('call_billing');
      }
    }
    const html = await app.inject({
      method: 'GET',
      url: `/api/v1/invoices/${invoiceId}/html?callsPurpose=call_billing`,
      headers,
    });
    expect(html.body).toContain('+32470123456');
  });
});

describe('HEAD of the invoice documents and the SEPA file (decision 0621)', () => {
  /** Every audit entry of the tenant, chained or still pending. */
  async function auditEntries(): Promise<number> {
    const { rows } = await runAsOwner<{ n: string }>(
      database.ownerUrl,
      `select (select count(*) from audit_log where tenant_id = $1)
            + (select count(*) from audit_pending where tenant_id = $1) as n`,
      [voiceking.tenantId],
    );
    return Number(rows[0]?.n);
  }

  function head(url: string, purpose = 'billing') {
    return app.inject({
      method: 'HEAD',
      url,
      headers: { cookie: billing.cookie, 'x-kluis-purpose': purpose },
    });
  }

  it('a HEAD of the PDF, UBL and HTML of an invoice and of the SEPA file reads no personal data and writes no audit entry; a purpose refused answers as the GET does, unrecorded', async () => {
    await customer('Hoofdman', 'nl');
    await runInvoices(kernel, billingContext(voiceking), { callsPurpose: 'call_billing', period: '2026-10' });
    const list = await get('/api/v1/invoices?period=2026-10');
    const invoiceId = list.json<{ items: Array<{ invoiceId: number }> }>().items[0]?.invoiceId;
    expect(invoiceId).toBeDefined();
    const before = await auditEntries();
    const urls = [
      `/api/v1/invoices/${invoiceId}/pdf`,
      `/api/v1/invoices/${invoiceId}/ubl`,
      `/api/v1/invoices/${invoiceId}/html`,
      '/api/v1/direct-debits/pain008?collectionDate=2026-12-05',
    ];
    for (const url of urls) {
      const answer = await head(url);
      expect(answer.statusCode, `${url} ${answer.body}`).toBeLessThan(500);
      expect(answer.body, url).toBe('');
    }
    expect((await head(urls[0] ?? '')).statusCode).toBe(200);
    const refused = await head(urls[0] ?? '', 'marketing');
    expect(await auditEntries()).toBe(before);
    expect(refused.statusCode).toBe((await get(urls[0] ?? '', 'marketing')).statusCode);

    // The GET right after is whole and is recorded.
    const pdf = await get(urls[0] ?? '');
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(await auditEntries()).toBeGreaterThan(before);
  });
});

describe('the EPC069-12 payload', () => {
  it('follows the guidelines: LF-separated, version 002 without BIC, UTF-8 name cut at 70 characters, amount with a point, at most 331 bytes; bad input is refused', () => {
    const payload = epcPayload({
      name: `Brasserie Élégance ${'x'.repeat(80)}`,
      iban: 'be68 5390 0754 7034',
      amountCents: 123_456,
      structuredCommunication: '+++090/9337/55493+++',
    });
    const lines = payload.split('\n');
    expect(lines.slice(0, 5)).toEqual(['BCD', '002', '1', 'SCT', '']);
    expect([...(lines[5] ?? '')]).toHaveLength(70);
    expect(lines.slice(6)).toEqual(['BE68539007547034', 'EUR1234.56', '', '090933755493']);
    expect(payload.endsWith('\n')).toBe(false);
    expect(Buffer.byteLength(payload, 'utf8')).toBeLessThanOrEqual(EPC_MAX_BYTES);
    const valid = { name: 'VoiceKing', iban: 'BE68539007547034', structuredCommunication: '090933755493' };
    expect(() => epcPayload({ ...valid, amountCents: 0 })).toThrow(RangeError);
    expect(() => epcPayload({ ...valid, amountCents: 100_000_000_000 })).toThrow(RangeError);
    expect(() => epcPayload({ ...valid, amountCents: 100, iban: 'BE00539007547034' })).toThrow(RangeError);
    expect(() => epcPayload({ ...valid, amountCents: 100, structuredCommunication: '090933755494' })).toThrow(
      RangeError,
    );
    expect(() => epcPayload({ ...valid, amountCents: 100, bic: 'NOT A BIC' })).toThrow(RangeError);
  });
});

describe('what the embedded font prints', () => {
  it('keeps Dutch and French letters and the euro sign; a letter outside the font loses its accent, or becomes ?', () => {
    expect(printable('Ça coûte 12,50 € — één crème brûlée, Œuvre')).toBe(
      'Ça coûte 12,50 € — één crème brûlée, Œuvre',
    );
    expect(printable('Šimić Łukasz\nGdańsk')).toBe('Simic ?ukasz Gdansk');
  });
});
