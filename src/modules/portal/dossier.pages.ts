import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import {
  dossierPurposes,
  downloadOwnAttachment,
  getOwnDossier,
  presentDossier,
  revealOwnSecret,
  sendDossierFile,
} from '../dossier/index.js';
import type { AccountPageKit } from './consents.pages.js';
import { fieldOf } from './frame.js';
import { html, type Html } from './html.js';
import { textsOf, type PortalFrame } from './layout.js';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';

type Presented = ReturnType<typeof presentDossier>;
type FieldLabel = keyof ReturnType<typeof textsOf>['dossier']['fields'];

/** Whether this tenant's policy keeps a technical dossier at all (VoiceKing: no; Voxtra: yes). */
export function keepsDossier(frame: PortalFrame): boolean {
  return dossierPurposes(frame.policy).length > 0;
}

/** A revealed secret, shown once in the answer to the form that asked for it. */
interface Revealed {
  credentialId: number;
  field: 'password' | 'totpSeed';
  value: string;
}

/**
 * My technical dossier (issues 17 and 19): what the technicians keep, secrets masked, and a button
 * per secret to show it; each reveal is audited in the person's name by the dossier module. The
 * secret is in the answer to that POST only (no redirect, no-store), never in a URL.
 */
export function registerDossierPages(app: FastifyInstance, deps: PortalDeps, kit: AccountPageKit): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['privacy portal pages'];
  const path = '/t/:slug/account/my-dossier';

  async function render(
    signed: NonNullable<Awaited<ReturnType<AccountPageKit['signedIn']>>>,
    revealed?: Revealed,
  ): Promise<string> {
    const { frame } = signed;
    const t = textsOf(frame).dossier;
    const session = { tenantId: signed.session.tenant.tenantId, subjectId: signed.session.subjectId };
    const dossier = presentDossier(await getOwnDossier(deps.kernel, session));
    const empty =
      dossier.assets.length +
        dossier.credentials.length +
        dossier.facts.length +
        dossier.attachments.length ===
      0;
    const body = html`<h1>${t.title}</h1>
      <p>${t.intro}</p>
      ${
        empty
          ? html`<p>${t.empty}</p>`
          : html`${section(t.assets, dossier.assets, assetCard)}
            ${section(t.credentials, dossier.credentials, credentialCard)}
            ${section(t.facts, dossier.facts, factCard)}
            ${section(t.attachments, dossier.attachments, attachmentCard)}`
      }`;
    return kit.page(signed, t.title, '/my-dossier', body);

    function fields(pairs: Array<[FieldLabel, string | null]>): Html {
      const shown = pairs.filter(([, value]) => value !== null && value !== '');
      return html`<dl>
        ${shown.map(
          ([label, value]) =>
            html`<dt>${t.fields[label]}</dt>
              <dd>${value}</dd>`,
        )}
      </dl>`;
    }

    function assetCard(item: Presented['assets'][number]): Html {
      const name = [item.kind, item.brand, item.model].filter(Boolean).join(' · ');
      return html`<h3>${name}</h3>
        ${fields([
          ['serial', item.serial],
          ['hostname', item.hostname],
          ['ipAddress', item.ipAddress],
          ['location', item.location],
        ])}`;
    }

    function factCard(item: Presented['facts'][number]): Html {
      return html`<h3>${item.label}</h3>
        ${fields([
          ['value', item.value],
          ['expiresOn', item.expiresOn],
        ])}`;
    }

    /**
     * Name, kind and size; the file only by a POST of the signed-in person (a secret one is the
     * same own-reveal step as a password: audited in their name, the content in that answer only).
     */
    function attachmentCard(item: Presented['attachments'][number]): Html {
      const kind = t.kinds[item.contentType as keyof typeof t.kinds] ?? t.kinds.other;
      return html`<h3>${item.fileName}</h3>
        <p>${kind} · ${t.size(item.sizeBytes)}</p>
        ${item.note ? html`<p class="hint">${item.note}</p>` : ''}
        ${item.secret ? html`<p>${t.secretFile}</p>` : ''}
        <form method="post" action="${frame.base}/account/my-dossier/attachment">
          <input type="hidden" name="csrf" value="${signed.csrf}" /><input
            type="hidden"
            name="attachmentId"
            value="${String(item.attachmentId)}"
          /><button type="submit" class="secondary">${item.secret ? t.revealFile : t.download}</button>
        </form>`;
    }

    function credentialCard(item: Presented['credentials'][number]): Html {
      const shownNow = revealed?.credentialId === item.credentialId ? revealed : undefined;
      const button = (field: Revealed['field'], label: string): Html =>
        html`<form method="post" action="${frame.base}/account/my-dossier/reveal">
          <input type="hidden" name="csrf" value="${signed.csrf}" /><input
            type="hidden"
            name="credentialId"
            value="${String(item.credentialId)}"
          /><input type="hidden" name="field" value="${field}" /><button type="submit" class="secondary">
            ${label}
          </button>
        </form>`;
      return html`<h3>${item.system}</h3>
        ${fields([
          ['url', item.url],
          ['username', item.username],
          ['password', shownNow?.field === 'password' ? null : item.password],
        ])}
        ${
          shownNow
            ? html`<p>
                <strong>${t.fields[shownNow.field]}:</strong>
                <code>${shownNow.value}</code><br /><small>${t.revealed}</small>
              </p>`
            : ''
        }
        ${item.password && shownNow?.field !== 'password' ? button('password', t.revealPassword) : ''}
        ${item.hasTotp && shownNow?.field !== 'totpSeed' ? button('totpSeed', t.revealTotp) : ''}`;
    }
  }

  typed.get(
    path,
    {
      schema: {
        summary:
          'Page: my technical dossier, secrets masked, each with a button to show it (no JavaScript needed)',
        tags,
        params: slugParams,
        querystring: z.object({ lang: z.string().max(5).optional() }),
        response: { 200: z.string(), 401: z.string() },
      },
    },
    async (request, reply) => {
      const signed = await kit.signedIn(request, reply, request.params.slug);
      if (!signed) return reply;
      try {
        return sendPage(reply, await render(signed));
      } catch (error) {
        return sendErrorPage(reply, signed.frame, error, `${signed.frame.base}/account`);
      }
    },
  );

  typed.post(
    `${path}/reveal`,
    {
      schema: {
        summary: 'Form post: show one of my own secrets on the dossier page; audited in my name',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await kit.signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      const back = `${signed.frame.base}/account/my-dossier`;
      try {
        const credentialId = Number(fieldOf(request.body, 'credentialId'));
        const field = fieldOf(request.body, 'field');
        if (
          !Number.isSafeInteger(credentialId) ||
          credentialId <= 0 ||
          (field !== 'password' && field !== 'totpSeed')
        )
          throw new AppError('validation_failed', 'bad reveal form', {
            publicMessage: 'credentialId and field (password or totpSeed) are needed',
          });
        const secret = await revealOwnSecret(
          deps.kernel,
          { tenantId: signed.session.tenant.tenantId, subjectId: signed.session.subjectId },
          credentialId,
          { field },
        );
        return sendPage(
          reply,
          await render(signed, { credentialId, field: secret.field, value: secret.value }),
        );
      } catch (error) {
        return sendErrorPage(reply, signed.frame, error, back);
      }
    },
  );

  typed.post(
    `${path}/attachment`,
    {
      schema: {
        summary:
          'Form post: download one of my own dossier attachments (a secret one by the same step as a password); audited in my name',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const signed = await kit.signedIn(request, reply, request.params.slug, fieldOf(request.body, 'csrf'));
      if (!signed) return reply;
      try {
        const attachmentId = Number(fieldOf(request.body, 'attachmentId'));
        if (!Number.isSafeInteger(attachmentId) || attachmentId <= 0)
          throw new AppError('validation_failed', 'bad attachment form', {
            publicMessage: 'attachmentId is needed',
          });
        const file = await downloadOwnAttachment(
          deps.kernel,
          { tenantId: signed.session.tenant.tenantId, subjectId: signed.session.subjectId },
          attachmentId,
        );
        return sendDossierFile(reply, file);
      } catch (error) {
        return sendErrorPage(reply, signed.frame, error, `${signed.frame.base}/account/my-dossier`);
      }
    },
  );
}

function section<T>(title: string, items: readonly T[], card: (item: T) => Html): Html {
  if (items.length === 0) return html``;
  return html`<h2>${title}</h2>
    <ul class="cards">
      ${items.map((item) => html`<li>${card(item)}</li>`)}
    </ul>`;
}
