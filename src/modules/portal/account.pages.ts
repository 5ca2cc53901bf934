import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isHeadRequest } from '../../http/head.js';
import {
  buildAccessOverview,
  consultationLine,
  readAccessTablePage,
  streamPortabilityZip,
  writeAccessReportJson,
} from '../../kernel/access-report/index.js';
import { erasureHoldsOn, isErasureHeld } from '../../kernel/erasure/index.js';
import { AppError, isAppError } from '../../platform/errors.js';
import {
  askLoginLinkAtDoor,
  authenticateSubject,
  endSession,
  fileAccountRequest,
  findDeferredErasure,
  listOwnRequests,
  loginAtDoor,
  readOwnPerson,
  sendExport,
  changePasswordAtDoor,
  portalPasswordState,
  RIGHTS_PURPOSE,
  setSessionCookie,
  signInBrowserOf,
  SUBJECT_COOKIE,
  SUBJECT_CSRF_COOKIE,
  type SubjectSession,
} from '../requests/index.js';
import { capitalize, formatDate } from '../../kernel/policy/statement.generator.js';
import { rectifyPerson } from '../parties/index.js';
import { assertFormToken, fieldOf, formToken, loadFrame, type FormBody } from './frame.js';
import { html, type Html } from './html.js';
import { isLanguage, renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';
import {
  columnLabel,
  describeCategories,
  describeKept,
  describeTables,
  displayValue,
} from './account.view.js';
import { changedFieldsOf, correctionOf } from './correction.js';
import { CORRECTABLE_FIELDS, renderErrorPage } from './rights.pages.js';
import type { CorrectableField, PasswordRefusal } from './texts.js';
import { registerConsentPages } from './consents.pages.js';
import { keepsDossier, registerDossierPages } from './dossier.pages.js';

const PAGE = { 200: z.string() };
const ROWS_PER_PAGE = 50;
/** The newest lines of who consulted the data on the page; the download has them all. */
const CONSULTATIONS_SHOWN = 30;
const langQuery = z.object({ lang: z.string().max(5).optional() });

const notFound = (): AppError => new AppError('not_found', 'no such page', { publicMessage: 'no such page' });

/** What keeps a person from erasure: the last end of a dated hold, and the open-ended claim's kind. */
/** The calendar day after an ISO day: the day a deferred erasure runs (decision 1210). */
function nextDay(day: string): string {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

interface Held {
  until: string | null;
  claim: 'dispute' | 'collection' | 'contract';
}

interface Signed {
  frame: PortalFrame;
  session: SubjectSession;
  csrf: string;
}

/** Account pages: the person's own data, changes and settings, behind the portal session. */
export function registerAccountPages(app: FastifyInstance, deps: PortalDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const secure = deps.secureCookies;
  const tags = ['privacy portal pages'];

  /** The frame of a page before anyone is known (the browser's language). */
  const frameOf = (request: FastifyRequest, reply: FastifyReply, slug: string): Promise<PortalFrame> =>
    loadFrame(deps.kernel, request, reply, slug, { secureCookies: secure });

  /** The session of the cookie (and on a POST the form's CSRF token), or none. */
  async function sessionOf(
    request: FastifyRequest,
    slug: string,
    csrf?: string,
  ): Promise<SubjectSession | undefined> {
    const cookie = request.cookies[SUBJECT_COOKIE] ?? '';
    if (cookie === '') return undefined;
    try {
      return await authenticateSubject(deps.requests, slug, cookie, csrf);
    } catch (error) {
      if (isAppError(error) && error.code === 'unauthenticated') return undefined;
      throw error;
    }
  }

  /** Loads the frame for a logged-in person (their own language first) or answers with the login page. */
  async function signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
    slug: string,
    csrfField?: string,
  ): Promise<Signed | undefined> {
    let session: SubjectSession | undefined;
    try {
      session = await sessionOf(request, slug, csrfField);
    } catch (error) {
      // A live session but a missing or wrong CSRF token: a form from elsewhere, refused as a page.
      if (!isAppError(error) || error.code !== 'forbidden') throw error;
      const frame = await frameOf(request, reply, slug);
      void sendErrorPage(reply, frame, error, `${frame.base}/account`);
      return undefined;
    }
    if (!session) {
      const frame = await frameOf(request, reply, slug);
      void sendPage(reply, renderLogin(frame, formToken(request, reply, frame.base, secure)), 401);
      return undefined;
    }
    const person = await readOwnPerson(deps.requests, session);
    const frame = await loadFrame(deps.kernel, request, reply, slug, {
      secureCookies: secure,
      personLanguage: person?.preferredLanguage ?? null,
    });
    const csrf = request.cookies[SUBJECT_CSRF_COOKIE] ?? '';
    return { frame: { ...frame, account: { csrf } }, session, csrf };
  }

  function accountNav(frame: PortalFrame, current: string): Html {
    const t = textsOf(frame);
    const items: Array<[string, string]> = [
      ['', t.account.home],
      ['/my-data', t.account.sections.data],
      ['/correct', t.account.sections.correct],
      ['/my-consents', t.consents.title],
      ...(keepsDossier(frame) ? [['/my-dossier', t.dossier.title] as [string, string]] : []),
      ['/my-requests', t.account.sections.requests],
      ['/settings', t.account.sections.settings],
      ['/erase', t.account.sections.erase],
    ];
    return html`<nav aria-label="${t.account.title}">
      <ul class="cards">
        ${items.map(
          ([path, label]) =>
            html`<li>
              <a href="${frame.base}/account${path}" ${path === current ? html` aria-current="page"` : ''}
                >${label}</a
              >
            </li>`,
        )}
      </ul>
    </nav>`;
  }

  /**
   * The login page. Both forms carry the portal form token (its SameSite=Strict cookie does not go
   * with another site's post): no login CSRF (attack finding A12, decision 0412).
   */
  function renderLogin(
    frame: PortalFrame,
    csrf: string,
    notice?: { kind: 'info' | 'error'; text: string },
  ): string {
    const t = textsOf(frame);
    const token = html`<input type="hidden" name="csrf" value="${csrf}" />`;
    const body = html`<h1>${t.account.loginTitle}</h1>
      <h2>${t.account.linkSubmit}</h2>
      <p>${t.account.linkIntro}</p>
      <form method="post" action="${frame.base}/account/login-link">
        ${token}
        <div class="field">
          <label for="link-email">${t.form.email}</label>
          <input type="email" id="link-email" name="email" required autocomplete="email" />
        </div>
        <button type="submit">${t.account.linkSubmit}</button>
      </form>
      <h2>${t.account.password}</h2>
      <p>${t.account.passwordIntro}</p>
      <form method="post" action="${frame.base}/account/login-password">
        ${token}
        <div class="field">
          <label for="pw-email">${t.form.email}</label>
          <input type="email" id="pw-email" name="email" required autocomplete="username" />
        </div>
        <div class="field">
          <label for="pw-password">${t.account.password}</label>
          <input type="password" id="pw-password" name="password" required autocomplete="current-password" />
        </div>
        <button type="submit">${t.account.passwordSubmit}</button>
      </form>`;
    return renderPortalPage(frame, {
      title: t.account.loginTitle,
      path: `${frame.base}/account`,
      body,
      ...(notice ? { notice } : {}),
    });
  }

  const page = (
    signed: Signed,
    title: string,
    sub: string,
    body: Html,
    notice?: string | { kind: 'info' | 'error'; text: string },
  ): string =>
    renderPortalPage(signed.frame, {
      title,
      path: `${signed.frame.base}/account${sub}`,
      body: html`${body}
        <hr />
        ${accountNav(signed.frame, sub)}`,
      ...(notice
        ? { notice: typeof notice === 'string' ? { kind: 'info' as const, text: notice } : notice }
        : {}),
    });

  /** The person's own data under the rights purpose, in the page's language. */
  const own = (signed: Signed) => ({
    tenantId: signed.session.tenant.tenantId,
    actor: { kind: 'subject' as const, subjectId: signed.session.subjectId },
    purpose: RIGHTS_PURPOSE,
    subjectId: signed.session.subjectId,
    language: signed.frame.lang,
  });

  /**
   * When the holds that keep the person from erasure end (decision 0415): the latest end of a
   * dated hold, null for an open dispute or hand-over for collection alone (decision 0465; which
   * one in `claim`), undefined when nothing holds them.
   */
  const heldUntil = async (signed: Signed): Promise<Held | undefined> => {
    const holds = await erasureHoldsOn(
      deps.kernel,
      deps.requests.dataMap,
      signed.session.tenant.tenantId,
      signed.session.subjectId,
    );
    if (holds.length === 0) return undefined;
    // Running contracts alone: the erasure can be asked now and runs the day after the relation's
    // last day (decisions 0940, 1210). With a legal claim besides, the claim is what is said.
    if (holds.every((hold) => hold.ground === 'running_contract')) {
      const open = holds.some((hold) => hold.endsOn === null);
      const last = holds.flatMap((hold) => (hold.endsOn ? [hold.endsOn] : [])).sort();
      return { until: open ? null : (last.at(-1) ?? null), claim: 'contract' };
    }
    const claims = holds.filter((hold) => hold.ground !== 'running_contract');
    const ends = claims.flatMap((hold) => (hold.endsOn ? [hold.endsOn] : [])).sort();
    const claim = claims.some((hold) => hold.kind === 'collection') ? 'collection' : 'dispute';
    return { until: ends.at(-1) ?? null, claim };
  };

  /**
   * The erase page of a person under a hold. A legal claim: kept until …, no form. Running
   * contracts alone: the erasure can be asked now and is carried out the day after the relation's
   * last day (decision 1210); once asked, the page says when.
   */
  const heldPage = async (signed: Signed, held: Held): Promise<string> => {
    const t = textsOf(signed.frame);
    // Held and last days are ISO facts; the page says them in words of its language.
    const day = (value: string | null): string | null =>
      value === null ? null : formatDate(value, signed.frame.lang);
    if (held.claim !== 'contract')
      return page(
        signed,
        t.erase.title,
        '/erase',
        html`<h1>${t.erase.title}</h1>
          <p role="status">${t.erase.held(day(held.until), held.claim)}</p>`,
      );
    const deferred = await findDeferredErasure(
      deps.requests,
      signed.session.tenant.tenantId,
      signed.session.subjectId,
    );
    if (deferred)
      return page(
        signed,
        t.erase.title,
        '/erase',
        html`<h1>${t.erase.title}</h1>
          <p role="status">
            ${t.erase.deferred(day(deferred.lastDay), deferred.lastDay ? day(nextDay(deferred.lastDay)) : null)}
          </p>`,
      );
    const eraseOn = held.until ? day(nextDay(held.until)) : null;
    return page(
      signed,
      t.erase.title,
      '/erase',
      html`<h1>${t.erase.title}</h1>
        <p role="status">${t.erase.held(day(held.until), held.claim, eraseOn)}</p>
        <form method="post" action="${signed.frame.base}/account/erase">
          <input type="hidden" name="csrf" value="${signed.csrf}" />
          <label class="check"
            ><input type="checkbox" name="confirm" value="yes" required />
            <span>${t.erase.deferConfirm}</span></label
          >
          <button type="submit">${t.erase.deferSubmit}</button>
        </form>`,
    );
  };

  const see = (reply: FastifyReply, location: string): FastifyReply =>
    reply.header('cache-control', 'no-store').redirect(location, 303);

  // ------------------------------------------------------------------ login
  typed.get(
    '/t/:slug/account',
    {
      schema: {
        summary: 'Page: log in (mailed link or password), or the account overview',
        tags,
        params: slugParams,
        querystring: langQuery.extend({
          failed: z.string().max(10).optional(),
          sent: z.string().max(5).optional(),
        }),
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const session = await sessionOf(request, request.params.slug);
      if (!session) {
        const frame = await frameOf(request, reply, request.params.slug);
        const t = textsOf(frame);
        const notice = request.query.sent
          ? { kind: 'info' as const, text: t.account.linkSent }
          : request.query.failed
            ? { kind: 'error' as const, text: t.account.loginFailed }
            : undefined;
        return sendPage(reply, renderLogin(frame, formToken(request, reply, frame.base, secure), notice));
      }
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const t = textsOf(signed.frame);
      const body = html`<h1>${t.account.title}</h1>
        <p>${t.account.homeIntro}</p>`;
      return sendPage(reply, page(signed, t.account.title, '', body));
    },
  );

  typed.post(
    '/t/:slug/account/login-link',
    {
      schema: {
        summary: 'Form post: mail a one-time login link to the address on file; 303 to the login page',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        await askLoginLinkAtDoor(
          deps.requests,
          frame.tenant.slug,
          fieldOf(request.body, 'email'),
          request.ip,
        );
      } catch (error) {
        return sendErrorPage(reply, frame, error, `${frame.base}/account`);
      }
      // The same answer whether or not the address is known.
      return see(reply, `${frame.base}/account?sent=1`);
    },
  );

  typed.post(
    '/t/:slug/account/login-password',
    {
      schema: {
        summary: 'Form post: log in with e-mail and password; 303 to the account',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        const login = await loginAtDoor(
          deps.requests,
          frame.tenant.slug,
          { email: fieldOf(request.body, 'email'), password: fieldOf(request.body, 'password') },
          request.ip,
          signInBrowserOf(request),
        );
        setSessionCookie(reply, frame.tenant.slug, login, secure);
        return see(reply, `${frame.base}/account`);
      } catch (error) {
        if (isAppError(error) && error.code === 'unauthenticated')
          return sendPage(
            reply,
            renderLogin(frame, formToken(request, reply, frame.base, secure), {
              kind: 'error',
              text: textsOf(frame).account.loginFailed,
            }),
            401,
          );
        return sendErrorPage(reply, frame, error, `${frame.base}/account`);
      }
    },
  );

  typed.post(
    '/t/:slug/account/logout',
    {
      schema: {
        summary: 'Form post: log out; 303 to the login page',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      await endSession(deps.requests, signed.session.tenant.tenantId, request.cookies[SUBJECT_COOKIE] ?? '');
      clearCookies(reply, signed.frame.base);
      return see(reply, `${signed.frame.base}/account`);
    },
  );

  function clearCookies(reply: FastifyReply, base: string): void {
    for (const name of [SUBJECT_COOKIE, SUBJECT_CSRF_COOKIE])
      void reply.clearCookie(name, { path: `${base}/`, httpOnly: true, sameSite: 'strict', secure });
  }

  // ------------------------------------------------------------------ my data
  typed.get(
    '/t/:slug/account/my-data',
    {
      schema: {
        summary:
          'Page: my data by category, with purpose, legal basis, recipients, retention and source in words',
        tags,
        params: slugParams,
        querystring: langQuery,
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      // Counts per table and the words per category; no value is read for this page.
      const report = await buildAccessOverview(deps.kernel, deps.requests.dataMap, own(signed));
      const categories = describeCategories(report, frame.policy, frame.lang);
      const tables = describeTables(report, t.data.tableNames);
      const body = html`<h1>${t.data.title}</h1>
        <p>${t.data.intro}</p>
        <p>
          <a class="button" href="${frame.base}/account/download/json" download>${t.data.downloadJson}</a>
          <a class="button" href="${frame.base}/account/download/zip" download>${t.data.downloadZip}</a>
        </p>
        ${categories.map(
          (category) =>
            html`<section aria-labelledby="cat-${category.key}">
              <h2 id="cat-${category.key}">${capitalize(category.label)}</h2>
              <dl class="facts">
                <dt>${t.data.purposes}</dt>
                <dd>
                  <ul>
                    ${category.purposes.map((purpose) => html`<li>${purpose.label} — ${t.data.basis(purpose.basis)}</li>`)}
                  </ul>
                </dd>
                <dt>${t.data.recipients}</dt>
                <dd>
                  ${category.recipients.length > 0 ? category.recipients.join('; ') : t.data.noRecipients}
                </dd>
                <dt>${t.data.retention}</dt>
                <dd>${category.retention.join('; ')}</dd>
                <dt>${t.data.source}</dt>
                <dd>${category.source ?? t.data.fromYou}</dd>
              </dl>
            </section>`,
        )}
        <h2>${t.data.values}</h2>
        <ul class="cards">
          ${tables.map(
            (table) =>
              html`<li>
                <a href="${frame.base}/account/my-data/${table.table}">${table.label}</a>
                <span class="hint">(${t.data.rows(table.rows)})</span>
              </li>`,
          )}
        </ul>
        ${report.withheld.items.length > 0 ? html`<p class="hint">${t.data.withheld}</p>` : ''}
        <h2>${t.data.consulted}</h2>
        ${
          report.consultations.length === 0
            ? html`<p>${t.data.consultedNone}</p>`
            : html`<ul>
                  ${report.consultations
                    .slice(0, CONSULTATIONS_SHOWN)
                    .map((item) => html`<li>${consultationLine(item, frame.lang)}</li>`)}
                </ul>
                ${
                  report.consultations.length > CONSULTATIONS_SHOWN
                    ? html`<p class="hint">
                        ${t.data.consultedMore(CONSULTATIONS_SHOWN, report.consultations.length)}
                      </p>`
                    : ''
                }`
        }`;
      return sendPage(reply, page(signed, t.data.title, '/my-data', body));
    },
  );

  typed.get(
    '/t/:slug/account/my-data/:table',
    {
      schema: {
        summary:
          'Page: the rows of one kind of my data, by month where they are dated (call records), paginated',
        tags,
        params: slugParams.extend({ table: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/) }),
        querystring: langQuery.extend({
          month: z
            .string()
            .regex(/^\d{4}-\d{2}$/)
            .optional(),
          page: z.coerce.number().int().min(1).max(100_000).default(1),
        }),
        response: { ...PAGE, 401: z.string(), 404: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      // Only this table's categories are asked for, and only this page's rows are read.
      const read = (month: string | undefined, page: number) =>
        readAccessTablePage(deps.kernel, deps.requests.dataMap, {
          ...own(signed),
          table: request.params.table,
          month,
          monthlyAbove: ROWS_PER_PAGE,
          offset: (page - 1) * ROWS_PER_PAGE,
          limit: ROWS_PER_PAGE,
        });
      let found = await read(request.query.month, request.query.page);
      if (!found || found.total === 0)
        return sendErrorPage(reply, frame, notFound(), `${frame.base}/account/my-data`);
      // A dated table larger than a page is read by month (the newest unless one is asked).
      const month = found.month ?? undefined;
      const byMonth = month !== undefined;
      const named = Object.hasOwn(t.data.tableNames, found.table)
        ? t.data.tableNames[found.table]
        : undefined;
      const label = named
        ? named
        : found.rows[0]
          ? [...new Set(Object.values(found.rows[0]).map((cell) => cell.category))]
              .map((key) => frame.policy.categories[key]?.label[frame.lang] ?? key)
              .join(', ')
          : found.table;
      const table = { table: found.table, label };
      const sub = `/my-data/${table.table}`;
      const here = `${frame.base}/account${sub}`;
      const months: Html | '' = byMonth
        ? html`<nav aria-label="${t.data.month}">
            <ul class="langs" style="flex-wrap:wrap">
              ${found.months.map(
                (item) =>
                  html`<li>
                    <a
                      href="${here}?month=${item.month}"
                      ${item.month === month ? html` aria-current="true"` : ''}
                      >${item.month} (${item.rows})</a
                    >
                  </li>`,
              )}
            </ul>
          </nav>`
        : '';
      const pages = Math.max(1, Math.ceil((byMonth ? found.inMonth : found.total) / ROWS_PER_PAGE));
      const current = Math.min(request.query.page, pages);
      if (current !== request.query.page) found = (await read(month, current)) ?? found;
      const shown = found.rows;
      const labels = new Map(
        Object.entries(frame.policy.categories).map(([key, category]) => [key, category.label[frame.lang]]),
      );
      const columns = [...new Set(shown.flatMap((row) => Object.keys(row)))];
      const purposeLabel = (key: string): string | undefined =>
        Object.hasOwn(frame.policy.purposes, key) ? frame.policy.purposes[key]?.label[frame.lang] : undefined;
      const categoryOf = (column: string): string => {
        const cell = shown.find((row) => row[column])?.[column];
        return cell ? (labels.get(cell.category) ?? cell.category) : column;
      };
      const query = (pageNumber: number): string =>
        `${here}?${month ? `month=${month}&` : ''}page=${pageNumber}`;
      const pager =
        pages > 1
          ? html`<nav class="pager" aria-label="${t.data.page(current, pages)}">
              ${current > 1 ? html`<a href="${query(current - 1)}">${t.data.previous}</a>` : ''}<span>${t.data.page(current, pages)}</span>${current < pages ? html`<a href="${query(current + 1)}">${t.data.next}</a>` : ''}
            </nav>`
          : '';
      const body = html`<h1>${table.label}</h1>
        <p><a href="${frame.base}/account/my-data">${t.data.title}</a> · ${t.data.rows(found.total)}</p>
        ${months}
        <div class="scroll" tabindex="0" role="region" aria-label="${table.label}">
          <table>
            <caption class="hint">
              ${table.label}
            </caption>
            <thead>
              <tr>
                ${columns.map((column) => html`<th scope="col">${columnLabel(found.table, column, categoryOf(column), frame.lang)}</th>`)}
              </tr>
            </thead>
            <tbody>
              ${shown.map(
                (row) =>
                  html`<tr>
                    ${columns.map((column) => html`<td>${displayValue(row[column]?.value, frame.lang, { table: found.table, column, purposeLabel })}</td>`)}
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>
        ${pager}`;
      return sendPage(reply, page(signed, table.label, sub, body));
    },
  );

  typed.get(
    '/t/:slug/account/download/:format',
    {
      schema: {
        summary:
          'My data as a file: the access report (JSON) or the portability package (ZIP with JSON and CSV)',
        tags,
        params: slugParams.extend({ format: z.enum(['json', 'zip']) }),
      },
    },
    async (request, reply) => {
      const json = request.params.format === 'json';
      const file = (tenant: { slug: string }) => ({
        type: json ? 'application/json; charset=utf-8' : 'application/zip',
        filename: `${tenant.slug}-my-data.${request.params.format}`,
      });
      // A HEAD needs the session alone (sendExport answers it from the headers): reading the
      // person's language for the pages of a refusal would write an audit entry (decision 0580).
      const headOf = isHeadRequest(request) ? await sessionOf(request, request.params.slug) : undefined;
      if (headOf) {
        const { tenant, subjectId } = headOf;
        const download = { kernel: deps.kernel, tenantId: tenant.tenantId, subjectId, ...file(tenant) };
        return sendExport(request, reply, download, () => Promise.resolve());
      }
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const options = own(signed);
      try {
        // Written while the rows are read, one export per person at a time (decision 0490).
        return await sendExport(
          request,
          reply,
          {
            kernel: deps.kernel,
            tenantId: options.tenantId,
            subjectId: options.subjectId,
            ...file(frame.tenant),
            ...(deps.requests.exportPace ? { pace: deps.requests.exportPace } : {}),
          },
          (output) =>
            json
              ? writeAccessReportJson(deps.kernel, deps.requests.dataMap, options, output)
              : streamPortabilityZip(deps.kernel, deps.requests.dataMap, options, output),
        );
      } catch (error) {
        if (reply.sent || !isAppError(error)) throw error;
        if (error.code !== 'export_in_progress' && error.code !== 'exports_busy') throw error;
        return sendErrorPage(reply, frame, error, `${frame.base}/account/my-data`);
      }
    },
  );

  // ------------------------------------------------------------------ correct
  typed.get(
    '/t/:slug/account/correct',
    {
      schema: {
        summary: 'Page: correct my name, contact data and address',
        tags,
        params: slugParams,
        querystring: langQuery.extend({
          done: z.string().max(80).optional(),
          unchanged: z.string().max(5).optional(),
        }),
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const person = await readOwnPerson(deps.requests, signed.session);
      const t = textsOf(signed.frame);
      const current: Record<string, string> = {
        givenName: person?.givenName ?? '',
        familyName: person?.familyName ?? '',
        email: person?.email ?? '',
        phone: person?.phone ?? '',
        street: person?.address?.street ?? '',
        postalCode: person?.address?.postalCode ?? '',
        city: person?.address?.city ?? '',
      };
      const named = changedFieldsOf(request.query.done, CORRECTABLE_FIELDS).map(
        (field) => t.form.fieldNames[field],
      );
      const notice = request.query.unchanged
        ? t.correct.unchanged
        : request.query.done === undefined
          ? undefined
          : named.length > 0
            ? t.correct.corrected(named.join(', '))
            : t.correct.done;
      return sendPage(reply, correctPage(signed, current, notice));
    },
  );

  /** The correction form with the given values (the stored ones, or what a refused post held). */
  function correctPage(
    signed: Signed,
    values: Record<string, string>,
    notice?: string | { kind: 'error'; text: string },
    invalid: readonly string[] = [],
  ): string {
    const t = textsOf(signed.frame);
    const body = html`<h1>${t.correct.title}</h1>
      <p>${t.correct.intro}</p>
      <form method="post" action="${signed.frame.base}/account/correct">
        <input type="hidden" name="csrf" value="${signed.csrf}" />
        ${CORRECTABLE_FIELDS.map(
          (field) =>
            html`<div class="field">
              <label for="f-${field}">${t.form.fieldNames[field]}</label
              ><input
                type="${field === 'email' ? 'email' : field === 'phone' ? 'tel' : 'text'}"
                id="f-${field}"
                name="${field}"
                value="${values[field] ?? ''}"
                ${invalid.includes(field) ? html` aria-invalid="true"` : ''}
              />
            </div>`,
        )}
        <button type="submit">${t.correct.submit}</button>
      </form>`;
    return page(signed, t.correct.title, '/correct', body, notice);
  }

  /** Which of the form's fields a refused correction names (issue paths, or the phone check's message). */
  function refusedFields(error: {
    publicMessage?: string;
    details?: { issues?: Array<{ path: string }> };
  }): CorrectableField[] {
    const named = new Set<string>();
    for (const issue of error.details?.issues ?? []) {
      const last = issue.path.split(/[/.]/).at(-1) ?? '';
      if ((CORRECTABLE_FIELDS as readonly string[]).includes(last)) named.add(last);
    }
    if (error.publicMessage?.startsWith('phone')) named.add('phone');
    return CORRECTABLE_FIELDS.filter((field) => named.has(field));
  }

  typed.post(
    '/t/:slug/account/correct',
    {
      schema: {
        summary: 'Form post: apply my corrections at once; 303 back',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      const person = await readOwnPerson(deps.requests, signed.session);
      const body: FormBody = request.body;
      const typed = Object.fromEntries(
        CORRECTABLE_FIELDS.map((field) => [field, fieldOf(body, field)]),
      ) as Record<CorrectableField, string>;
      // Only what the person changed is filed and named back to them (attack S18: untouched
      // fields were counted as changed).
      const { changes, changed } = correctionOf(person, typed);
      if (changed.length === 0) return see(reply, `${signed.frame.base}/account/correct?unchanged=1`);
      try {
        await fileAccountRequest(deps.requests, signed.session, {
          kind: 'rectification',
          corrections: changes,
          language: signed.frame.lang,
        });
      } catch (error) {
        // Refused corrections file nothing (attack A6): the form again, saying what is wrong.
        if (
          isAppError(error) &&
          (error.code === 'validation_failed' || error.code === 'sensitive_data_refused')
        ) {
          const t = textsOf(signed.frame);
          const fields = refusedFields(error);
          const names = fields.map((field) => t.form.fieldNames[field]);
          const text =
            error.code === 'sensitive_data_refused'
              ? t.correct.sensitive
              : names.length > 0
                ? t.correct.invalid(names.join(', '))
                : t.form.invalid.corrections;
          return sendPage(reply, correctPage(signed, typed, { kind: 'error', text }, fields), 422);
        }
        return sendErrorPage(reply, signed.frame, error, `${signed.frame.base}/account/correct`);
      }
      return see(reply, `${signed.frame.base}/account/correct?done=${changed.join(',')}`);
    },
  );

  // ------------------------------------------------------------------ erase
  typed.get(
    '/t/:slug/account/erase',
    {
      schema: {
        summary: 'Page: erase my account, saying first what will be kept, why and until when',
        tags,
        params: slugParams,
        querystring: langQuery,
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      const held = await heldUntil(signed);
      if (held !== undefined) return sendPage(reply, await heldPage(signed, held));
      const report = await buildAccessOverview(deps.kernel, deps.requests.dataMap, own(signed));
      const kept = describeKept(report, deps.requests.dataMap, frame.policy, frame.lang);
      const body = html`<h1>${t.erase.title}</h1>
        <p>${t.erase.intro}</p>
        ${
          kept.length > 0
            ? html`<h2>${t.erase.kept}</h2>
                <ul>
                  ${kept.map((item) => html`<li>${t.erase.keptItem(item.what, item.why, item.until)}</li>`)}
                </ul>`
            : html`<p>${t.erase.nothingKept}</p>`
        }
        <p><strong>${t.erase.letter}</strong></p>
        <form method="post" action="${frame.base}/account/erase">
          <input type="hidden" name="csrf" value="${signed.csrf}" />
          <label class="check"
            ><input type="checkbox" name="confirm" value="yes" required />
            <span>${t.erase.confirm}</span></label
          >
          <button type="submit">${t.erase.submit}</button>
        </form>`;
      return sendPage(reply, page(signed, t.erase.title, '/erase', body));
    },
  );

  typed.post(
    '/t/:slug/account/erase',
    {
      schema: {
        summary:
          'Form post: erase my account now (legal holds kept), 303 to the goodbye page; while a contract runs, the erasure is recorded for the day after its last day, 303 to the erase page saying when',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      if (fieldOf(request.body, 'confirm') !== 'yes') return see(reply, `${signed.frame.base}/account/erase`);
      // Under a legal hold nothing is filed and nothing erased (decision 0415). Under running
      // contracts alone the request is filed and answered with the day it will be carried out
      // (decision 1210); asked once, it is not filed again.
      const held = await heldUntil(signed);
      const erasePage = `${signed.frame.base}/account/erase?lang=${signed.frame.lang}`;
      if (held !== undefined && held.claim !== 'contract')
        return sendPage(reply, await heldPage(signed, held), 409);
      if (
        held !== undefined &&
        (await findDeferredErasure(deps.requests, signed.session.tenant.tenantId, signed.session.subjectId))
      )
        return see(reply, erasePage);
      try {
        await fileAccountRequest(deps.requests, signed.session, {
          kind: 'erasure',
          language: signed.frame.lang,
        });
      } catch (error) {
        // A hold placed in between: the request stays for the officer to answer.
        if (isErasureHeld(error))
          return sendPage(
            reply,
            await heldPage(signed, (await heldUntil(signed)) ?? { until: null, claim: 'dispute' }),
            409,
          );
        return sendErrorPage(reply, signed.frame, error, `${signed.frame.base}/account/erase`);
      }
      // Deferred: the person stays signed in and the erase page says when (decision 1210).
      if (await findDeferredErasure(deps.requests, signed.session.tenant.tenantId, signed.session.subjectId))
        return see(reply, erasePage);
      await endSession(deps.requests, signed.session.tenant.tenantId, request.cookies[SUBJECT_COOKIE] ?? '');
      clearCookies(reply, signed.frame.base);
      return see(reply, `${signed.frame.base}/account/erased?lang=${signed.frame.lang}`);
    },
  );

  typed.get(
    '/t/:slug/account/erased',
    {
      schema: {
        summary: 'Page: the account was erased; the letter follows by e-mail',
        tags,
        params: slugParams,
        querystring: langQuery,
        response: PAGE,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const t = textsOf(frame);
      return sendPage(
        reply,
        renderPortalPage(frame, {
          title: t.erase.title,
          path: `${frame.base}/account/erased`,
          body: html`<h1>${t.erase.title}</h1>
            <p role="status">${t.erase.done}</p>`,
        }),
      );
    },
  );

  // ------------------------------------------------------------------ requests and settings
  typed.get(
    '/t/:slug/account/my-requests',
    {
      schema: {
        summary: 'Page: my requests and their status',
        tags,
        params: slugParams,
        querystring: langQuery,
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      const requests = await listOwnRequests(deps.requests, signed.session);
      const body = html`<h1>${t.myRequests.title}</h1>
        ${
          requests.length === 0
            ? html`<p>${t.myRequests.none}</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th scope="col">${t.status.kind}</th>
                    <th scope="col">${t.status.state}</th>
                    <th scope="col">${t.status.received}</th>
                    <th scope="col">${t.status.due}</th>
                  </tr>
                </thead>
                <tbody>
                  ${requests.map(
                    (item) =>
                      html`<tr>
                        <td>${t.rights.names[item.kind]}</td>
                        <td>
                          ${
                            item.erasureWaitsFor
                              ? t.status.erasureWaits(
                                  item.erasureWaitsFor.lastDay
                                    ? formatDate(nextDay(item.erasureWaitsFor.lastDay), frame.lang)
                                    : null,
                                )
                              : t.status.states[item.state]
                          }
                        </td>
                        <td>${formatDate(item.receivedOn, frame.lang)}</td>
                        <td>${formatDate(item.dueOn, frame.lang)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
        <p><a href="${frame.base}/rights">${t.nav.rights}</a></p>`;
      return sendPage(reply, page(signed, t.myRequests.title, '/my-requests', body));
    },
  );

  typed.get(
    '/t/:slug/account/settings',
    {
      schema: {
        summary: 'Page: my language and my password',
        tags,
        params: slugParams,
        querystring: langQuery.extend({ saved: z.string().max(5).optional() }),
        response: { ...PAGE, 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      // Once a password is set, changing it asks for it (but just after a mailed link, decision 1061).
      const { needsCurrent } = await portalPasswordState(deps.requests, signed.session);
      const body = html`<h1>${t.settings.title}</h1>
        <form method="post" action="${frame.base}/account/settings/language">
          <input type="hidden" name="csrf" value="${signed.csrf}" />
          <div class="field">
            <label for="language">${t.settings.language}</label>
            <select id="language" name="language">
              ${frame.languages.map(
                (lang) =>
                  html`<option value="${lang}" ${lang === frame.lang ? html` selected` : ''}>
                    ${textsOfLang(lang)}
                  </option>`,
              )}
            </select>
          </div>
          <button type="submit">${t.settings.languageSubmit}</button>
        </form>
        <form method="post" action="${frame.base}/account/settings/password">
          <input type="hidden" name="csrf" value="${signed.csrf}" />
          <input
            type="text"
            name="username"
            autocomplete="username"
            hidden
            aria-hidden="true"
            tabindex="-1"
            value=""
          />
          ${
            needsCurrent
              ? html`<div class="field">
                  <label for="current-password">${t.settings.currentPassword}</label>
                  <input
                    type="password"
                    id="current-password"
                    name="currentPassword"
                    autocomplete="current-password"
                    maxlength="200"
                    required
                  />
                </div>`
              : ''
          }
          <div class="field">
            <label for="password">${t.settings.password}</label>
            <p class="hint" id="password-hint">${t.settings.passwordHint}</p>
            <input
              type="password"
              id="password"
              name="password"
              autocomplete="new-password"
              minlength="12"
              maxlength="200"
              required
              aria-describedby="password-hint"
            />
          </div>
          <button type="submit">${t.settings.passwordSubmit}</button>
        </form>`;
      return sendPage(
        reply,
        page(
          signed,
          t.settings.title,
          '/settings',
          body,
          request.query.saved === 'pw'
            ? t.settings.passwordSaved
            : request.query.saved
              ? t.settings.saved
              : undefined,
        ),
      );
    },
  );

  const textsOfLang = (lang: 'nl' | 'fr' | 'en'): string => textsOf({ lang } as PortalFrame).languageName;

  typed.post(
    '/t/:slug/account/settings/language',
    {
      schema: {
        summary: 'Form post: my language (for this portal and for the mail we send); 303 back',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      const language = fieldOf(request.body, 'language');
      if (!isLanguage(language) || !signed.frame.languages.includes(language))
        return sendErrorPage(reply, signed.frame, notFound(), `${signed.frame.base}/account/settings`);
      try {
        await rectifyPerson(deps.kernel, own(signed), signed.session.subjectId, {
          preferredLanguage: language,
        });
      } catch (error) {
        return sendErrorPage(reply, signed.frame, error, `${signed.frame.base}/account/settings`);
      }
      // The switcher's remembered choice follows the setting.
      return see(reply, `${signed.frame.base}/account/settings?saved=1&lang=${language}`);
    },
  );

  typed.post(
    '/t/:slug/account/settings/password',
    { schema: { summary: 'Form post: set my password; 303 back', tags, params: slugParams, body: formBody } },
    async (request, reply) => {
      const signed = await signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      const back = `${signed.frame.base}/account/settings`;
      const current = fieldOf(request.body, 'currentPassword');
      try {
        await changePasswordAtDoor(
          deps.requests,
          signed.session,
          {
            password: fieldOf(request.body, 'password'),
            currentPassword: current === '' ? undefined : current,
          },
          request.ip,
        );
      } catch (error) {
        // The page names the rule in the person's language (the 400's sentence is for the API).
        const rule = isAppError(error) ? error.details?.rule : undefined;
        const refusals = textsOf(signed.frame).settings.passwordRefused;
        if (typeof rule === 'string' && rule in refusals) {
          const status = rule.startsWith('current_password')
            ? 403
            : rule === 'password_changed_meanwhile'
              ? 409
              : 422;
          return sendPage(
            reply,
            renderErrorPage(signed.frame, refusals[rule as PasswordRefusal], back),
            status,
          );
        }
        return sendErrorPage(reply, signed.frame, error, back);
      }
      return see(reply, `${back}?saved=pw`);
    },
  );

  registerConsentPages(app, deps, { signedIn, page });
  registerDossierPages(app, deps, { signedIn, page });
}
