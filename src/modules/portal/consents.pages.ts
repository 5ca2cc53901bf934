import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { formatDate } from '../../kernel/policy/statement.generator.js';
import {
  consentWording,
  listConsentStates,
  NO_CONFIRMATION_ADDRESS,
  recordConsentOrAskConfirmation,
} from '../consent/index.js';
import { AppError, isAppError } from '../../platform/errors.js';
import { dossierPurposes } from '../dossier/index.js';
import { fieldOf } from './frame.js';
import { html, type Html } from './html.js';
import { textsOf, type PortalFrame } from './layout.js';
import type { FastifyInstance } from 'fastify';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';
import { renderErrorPage } from './rights.pages.js';

/** What the account pages lend this page: the signed-in check and the page frame with the account menu. */
export interface AccountPageKit {
  signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
    slug: string,
    csrfField?: string,
  ): Promise<
    | { frame: PortalFrame; session: { tenant: { tenantId: number }; subjectId: number }; csrf: string }
    | undefined
  >;
  page(
    signed: { frame: PortalFrame; csrf: string },
    title: string,
    sub: string,
    body: Html,
    notice?: string,
  ): string;
}

const EVENTS = ['given', 'withdrawn', 'objected', 'objected_marketing'] as const;

/**
 * My consents (issue 19, over the consent module's ledger, issue 14): each purpose that rests on
 * consent or legitimate interest with my current choice in words, a button to give, withdraw or
 * object, and the objection to all direct marketing. Each change is a ledger entry, in effect at once.
 */
export function registerConsentPages(app: FastifyInstance, deps: PortalDeps, kit: AccountPageKit): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['privacy portal pages'];
  typed.get(
    '/t/:slug/account/my-consents',
    {
      schema: {
        summary: 'Page: my consents and objections, to give, withdraw or object (works without JavaScript)',
        tags,
        params: slugParams,
        querystring: z.object({ lang: z.string().max(5).optional(), saved: z.string().max(5).optional() }),
        response: { 200: z.string(), 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await kit.signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      const { frame } = signed;
      const t = textsOf(frame);
      const words = STATEMENT_TEXTS[frame.lang];
      const states = await listConsentStates(
        deps.kernel,
        {
          tenantId: signed.session.tenant.tenantId,
          actor: { kind: 'subject', subjectId: signed.session.subjectId },
        },
        frame.lang,
      );
      const cookieSection = await renderCookieChoices(deps, signed);
      const dossiers = dossierPurposes(frame.policy);
      const button = (purpose: string, event: (typeof EVENTS)[number], label: string): Html =>
        html`<form method="post" action="${frame.base}/account/my-consents">
          <input type="hidden" name="csrf" value="${signed.csrf}" /><input
            type="hidden"
            name="purpose"
            value="${purpose}"
          /><input type="hidden" name="event" value="${event}" /><button type="submit" class="secondary">
            ${label}
          </button>
        </form>`;
      const body = html`<h1>${t.consents.title}</h1>
        <p>${t.consents.intro}</p>
        <ul class="cards">
          ${states.purposes.map((item) => {
            const state = t.consents.states[item.state];
            const since = item.since
              ? ` ${t.consents.since} ${formatDate(item.since.toISOString().slice(0, 10), frame.lang)}`
              : '';
            const action =
              item.legalBasis === 'consent'
                ? item.state === 'consented'
                  ? button(item.purpose, 'withdrawn', t.consents.withdraw)
                  : html`<p class="hint">${item.wording}</p>
                      ${button(item.purpose, 'given', t.consents.give)}`
                : item.state === 'objected'
                  ? ''
                  : button(item.purpose, 'objected', t.consents.object);
            // An objection to the dossier erased it at once (decision 0915): the page says so.
            const erased =
              item.state === 'objected' && dossiers.includes(item.purpose)
                ? html`<p>${t.consents.dossierErased}</p>`
                : '';
            return html`<li>
              <h2>${item.label}</h2>
              <p>${words.legalBases[item.legalBasis]} — <strong>${state}</strong>${since}</p>
              ${erased} ${action}
            </li>`;
          })}
        </ul>
        <h2>${t.consents.marketingTitle}</h2>
        ${
          states.marketingObjectedAt
            ? html`<p><strong>${t.consents.marketingDone}</strong></p>`
            : html`<p>${t.consents.marketingIntro}</p>
                <form method="post" action="${frame.base}/account/my-consents">
                  <input type="hidden" name="csrf" value="${signed.csrf}" /><input
                    type="hidden"
                    name="event"
                    value="objected_marketing"
                  /><button type="submit">${t.consents.marketingButton}</button>
                </form>`
        }
        ${cookieSection}`;
      return sendPage(
        reply,
        kit.page(
          signed,
          t.consents.title,
          '/my-consents',
          body,
          request.query.saved ? t.consents.saved : undefined,
        ),
      );
    },
  );

  typed.post(
    '/t/:slug/account/my-consents',
    {
      schema: {
        summary: 'Form post: give or withdraw consent, object, or object to all direct marketing; 303 back',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await kit.signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      const { frame } = signed;
      const event = fieldOf(request.body, 'event');
      const purpose = fieldOf(request.body, 'purpose');
      try {
        if (
          !(EVENTS as readonly string[]).includes(event) ||
          (event === 'objected_marketing') !== (purpose === '')
        )
          throw new AppError('validation_failed', 'bad consent form', {
            publicMessage: 'purpose: name the purpose, except for an objection to all direct marketing',
          });
        await recordConsentOrAskConfirmation(
          deps.requests,
          {
            tenantId: signed.session.tenant.tenantId,
            actor: { kind: 'subject', subjectId: signed.session.subjectId },
            requestId: request.id,
          },
          {
            subjectId: signed.session.subjectId,
            purpose: purpose === '' ? null : purpose,
            event: event as (typeof EVENTS)[number],
            channel: 'privacy_portal',
            wording:
              event === 'given' && purpose !== ''
                ? { language: frame.lang, text: consentWording(frame.policy, purpose, frame.lang) }
                : undefined,
          },
        );
      } catch (error) {
        // The choice exists; only the address to confirm it at is missing: say that (S21-B-2).
        if (isAppError(error) && error.details?.reason === NO_CONFIRMATION_ADDRESS)
          return sendPage(
            reply,
            renderErrorPage(frame, textsOf(frame).consents.noAddress, `${frame.base}/account/my-consents`),
            422,
          );
        return sendErrorPage(reply, frame, error, `${frame.base}/account/my-consents`);
      }
      return reply
        .header('cache-control', 'no-store')
        .redirect(`${frame.base}/account/my-consents?saved=1`, 303);
    },
  );
}

/**
 * The cookie choices linked to the person at a portal login (issue 15, decision 0290): each choice
 * in words, and the link to the cookie settings (with the newest linked consent id, so the page
 * shows that choice). Only for a tenant whose policy offers the cookie banner.
 */
async function renderCookieChoices(
  deps: PortalDeps,
  signed: { frame: PortalFrame; session: { tenant: { tenantId: number }; subjectId: number } },
): Promise<Html | ''> {
  const { frame } = signed;
  const { cookies } = frame.policy;
  if (!cookies.consentAtFirstVisit || cookies.items.length === 0) return '';
  const t = textsOf(frame).consents.cookies;
  const choices = deps.cookieChoices
    ? await deps.cookieChoices({
        tenantId: signed.session.tenant.tenantId,
        subjectId: signed.session.subjectId,
      })
    : [];
  const newest = choices[0];
  const settings = `${frame.base}/cookies?lang=${frame.lang}${newest ? `&consent=${newest.consentId}` : ''}`;
  const day = (date: Date): string => formatDate(date.toISOString().slice(0, 10), frame.lang);
  const table = html`<div class="scroll" tabindex="0" role="region" aria-label="${t.title}">
    <table>
      <thead>
        <tr>
          <th scope="col">${t.columns.given}</th>
          <th scope="col">${t.columns.choice}</th>
          <th scope="col">${t.columns.where}</th>
          <th scope="col">${t.columns.until}</th>
        </tr>
      </thead>
      <tbody>
        ${choices.map(
          (choice) =>
            html`<tr>
              <td>${day(choice.givenAt)}</td>
              <td>
                ${
                  choice.categories.length > 0
                    ? t.accepted(choice.categories.map((category) => t.categories[category]).join(', '))
                    : t.onlyFunctional
                }
              </td>
              <td>${t.sources[choice.source]}</td>
              <td>${day(choice.expiresAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
  return html`<h2 id="cookie-choices">${t.title}</h2>
    <p>${choices.length > 0 ? t.intro : t.none}</p>
    ${choices.length > 0 ? table : ''}
    <p><a href="${settings}">${t.settingsLink}</a></p>`;
}
