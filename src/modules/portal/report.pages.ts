import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isAppError } from '../../platform/errors.js';
import { submitPublicIncidentReport } from '../recipients/index.js';
import { assertFormToken, fieldOf, formToken, loadFrame } from './frame.js';
import { html, trusted } from './html.js';
import { renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';

interface ReportForm {
  kind?: string;
  description?: string;
  noticedOn?: string;
  error?: string;
  received?: boolean;
}

function renderReportPage(frame: PortalFrame, csrf: string, form: ReportForm = {}): string {
  const t = textsOf(frame).report;
  const choice = (value: 'misuse' | 'insecurity', label: string) =>
    html`<label class="check"
      ><input type="radio" name="kind" value="${value}" ${form.kind === value ? trusted('checked') : ''} />
      <span>${label}</span></label
    >`;
  const body = html`<h1>${t.title}</h1>
    ${form.received ? html`<div class="notice" role="status">${t.received}</div>` : ''}
    ${form.error ? html`<div class="notice error" role="alert" id="form-error">${form.error}</div>` : ''}
    <p>${t.intro}</p>
    <form method="post" action="${frame.base}/report" novalidate>
      <input type="hidden" name="csrf" value="${csrf}" />
      <fieldset class="field">
        <legend>${t.kind}</legend>
        ${choice('misuse', t.misuse)} ${choice('insecurity', t.insecurity)}
      </fieldset>
      <div class="field">
        <label for="description">${t.description}</label>
        <p class="hint" id="description-hint">${t.descriptionHint}</p>
        <textarea
          id="description"
          name="description"
          rows="6"
          maxlength="5000"
          aria-describedby="description-hint"
        >
${form.description ?? ''}</textarea>
      </div>
      <div class="field">
        <label for="noticedOn">${t.noticedOn}</label>
        <p class="hint" id="noticed-hint">${t.noticedOnHint}</p>
        <input
          type="date"
          id="noticedOn"
          name="noticedOn"
          aria-describedby="noticed-hint"
          value="${form.noticedOn ?? ''}"
        />
      </div>
      <button type="submit">${t.submit}</button>
    </form>`;
  return renderPortalPage(frame, { title: t.title, path: `${frame.base}/report`, body });
}

/**
 * The public form for reports of misuse or insecurity (VK-9; issues 18 and 19), over the recipients
 * module's intake: no JavaScript, a CSRF token, the same answer for everyone, rate-limited there.
 */
export function registerReportPages(app: FastifyInstance, deps: PortalDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const frameOf = (request: FastifyRequest, reply: FastifyReply, slug: string): Promise<PortalFrame> =>
    loadFrame(deps.kernel, request, reply, slug, { secureCookies: deps.secureCookies });
  typed.get(
    '/t/:slug/report',
    {
      schema: {
        summary: 'Page: report misuse or a security problem (works without JavaScript)',
        tags: ['privacy portal pages'],
        params: slugParams,
        querystring: z.object({ lang: z.string().max(5).optional(), sent: z.string().max(5).optional() }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const csrf = formToken(request, reply, frame.base, deps.secureCookies);
      return sendPage(reply, renderReportPage(frame, csrf, { received: request.query.sent === '1' }));
    },
  );
  typed.post(
    '/t/:slug/report',
    {
      schema: {
        summary: 'Form post: a report of misuse or insecurity into the incident register; 303 back',
        tags: ['privacy portal pages'],
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const form: ReportForm = {
        kind: fieldOf(request.body, 'kind'),
        description: fieldOf(request.body, 'description'),
        noticedOn: fieldOf(request.body, 'noticedOn'),
      };
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        await submitPublicIncidentReport(
          { kernel: deps.kernel },
          frame.tenant.slug,
          {
            kind: form.kind,
            description: form.description,
            ...(form.noticedOn ? { noticedOn: form.noticedOn } : {}),
          },
          { address: request.ip },
        );
        return reply.header('cache-control', 'no-store').redirect(`${frame.base}/report?sent=1`, 303);
      } catch (error) {
        if (
          isAppError(error) &&
          (error.code === 'validation_failed' || error.code === 'sensitive_data_refused')
        ) {
          const t = textsOf(frame).report;
          const csrf = formToken(request, reply, frame.base, deps.secureCookies);
          // A refused text is never echoed back (VK-16): the person types it again without the data.
          const shown =
            error.code === 'validation_failed'
              ? { ...form, error: t.invalid }
              : { ...form, description: '', error: t.sensitive };
          return sendPage(reply, renderReportPage(frame, csrf, shown), 422);
        }
        return sendErrorPage(reply, frame, error, `${frame.base}/report`);
      }
    },
  );
}
