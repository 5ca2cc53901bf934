import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  EXPORT_DEFLATE_LEVEL,
  streamPortabilityZip,
  writeAccessPackage,
} from '../../kernel/access-report/index.js';
import { isHeadRequest, sendHeadersOnly } from '../../http/head.js';
import { describeUnexpected } from '../../platform/errors.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { DeflateSpool, ZipStream } from '../../platform/zip-stream.js';
import {
  DEFAULT_EXPORT_PACE,
  endWhenStalled,
  takeExportSlot,
  takeServerExportSlot,
} from './export-download.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Tenant } from '../tenants/index.js';
import {
  completeDownload,
  consumeDownload,
  findDownload,
  openPackageForPost,
  RIGHTS_PURPOSE,
  type RequestsDeps,
  type RightsRequestRow,
  type StaffContext,
} from './requests.service.js';

/**
 * Streams the access or portability package of a mailed download link (the portal's button
 * posts here; a GET or HEAD of the link only shows that button, decision 0400). The link is
 * spent by a download written to the end, or at its 3rd start (decision 0382). Refusals
 * (unknown, spent, expired) throw before anything is written.
 */
export async function sendDownload(
  deps: RequestsDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  slug: string,
  token: string,
): Promise<FastifyReply> {
  // Before the link counts a start, so a refusal spends nothing of it: the person's one export
  // slot (decision 0490; their portal exports and every link of theirs share it, attack S8-7),
  // then one of the process's export connections (decision 0531).
  const found = await findDownload(deps, slug, token);
  const releasePerson =
    found?.subjectId == null ? () => undefined : takeExportSlot(deps.kernel, found.tenantId, found.subjectId);
  try {
    const releaseServer = takeServerExportSlot(deps.kernel, deps.exportPace);
    // A person whose connection closed may start again: the old writer stops at its next write.
    reply.raw.once('close', () => {
      releaseServer();
      releasePerson();
    });
    try {
      return await sendPackage(deps, request, reply, slug, token);
    } finally {
      releaseServer();
    }
  } finally {
    releasePerson();
  }
}

async function sendPackage(
  deps: RequestsDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  slug: string,
  token: string,
): Promise<FastifyReply> {
  const { tenant, request: rightsRequest } = await consumeDownload(deps, slug, token);
  const delivered = await writePackage(deps, request, reply, {
    tenant,
    request: rightsRequest,
    actor: { kind: 'system', job: 'rights-download' },
  });
  if (delivered) await completeDownload(deps, tenant.tenantId, token);
  else request.log.info('download interrupted; the link stays usable');
  return reply;
}

/**
 * Staff take the package of an access or portability request to post it with the letter, for a
 * person with no e-mail address on file (decision 1250): the same ZIP the link gives, read under
 * the rights purpose as the staff member (the gate audits the export with the request id).
 */
export async function sendPackageToStaff(
  deps: RequestsDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  context: StaffContext,
  requestId: string,
): Promise<FastifyReply> {
  const opened = await openPackageForPost(deps, context, requestId);
  // A HEAD starts no export (decision 0580).
  if (isHeadRequest(request)) return sendHeadersOnly(reply.header('content-type', 'application/zip'));
  const releaseServer = takeServerExportSlot(deps.kernel, deps.exportPace);
  reply.raw.once('close', releaseServer);
  try {
    await writePackage(deps, request, reply, { ...opened, actor: context.actor });
  } finally {
    releaseServer();
  }
  return reply;
}

/** Streams a request's package; true when it was written to its end. */
async function writePackage(
  deps: RequestsDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  source: { tenant: Tenant; request: RightsRequestRow; actor: Actor },
): Promise<boolean> {
  const { tenant, request: rightsRequest } = source;
  const subjectId = rightsRequest.subject_id ?? 0;
  const options = {
    tenantId: tenant.tenantId,
    actor: source.actor,
    purpose: RIGHTS_PURPOSE,
    subjectId,
    language: rightsRequest.language,
    // Staff take it for a request: the gate's audit entry names that request.
    ...(source.actor.kind === 'staff' ? { requestId: rightsRequest.request_id } : {}),
  };
  void reply
    .header('content-type', 'application/zip')
    .header('content-disposition', `attachment; filename="${tenant.slug}-${rightsRequest.kind}.zip"`)
    .header('cache-control', 'no-store');
  // The link is spent only by a download written to the end (decision 0382): a broken
  // connection leaves it for the next try.
  const raw = reply.raw;
  const delivered = finished(raw).then(
    () => true,
    () => false,
  );
  reply.hijack();
  raw.writeHead(200, reply.getHeaders() as Record<string, string>);
  raw.flushHeaders();
  await reachTestHook('requests.download-started');
  const keepSocket = endWhenStalled(raw, (deps.exportPace ?? DEFAULT_EXPORT_PACE).stallMs, request.log);
  try {
    if (rightsRequest.kind === 'portability') {
      await streamPortabilityZip(deps.kernel, deps.dataMap, options, raw);
    } else {
      // The JSON and the HTML come from one walk of the data (decision 0492), written while the
      // rows are read: the JSON into the ZIP, the HTML deflated aside (in memory, or sealed in a
      // temporary file beyond a few MB) and copied in after it, as ZIP entries are contiguous.
      const zip = new ZipStream(raw, { level: EXPORT_DEFLATE_LEVEL, modified: deps.kernel.clock.now() });
      const json = new PassThrough();
      const page = new DeflateSpool(EXPORT_DEFLATE_LEVEL);
      // The entry's reader and writer report its failure through the promises awaited below; an
      // error event nobody listens to would end the whole process (attack S7-0).
      json.on('error', () => undefined);
      // The person went away: stop reading their rows.
      raw.once('close', () => {
        if (!raw.writableFinished) json.destroy(new Error('download interrupted'));
      });
      try {
        // Both settle before the spool is disposed of: the walk stops at its next write.
        const [entry, walk] = await Promise.allSettled([
          zip.entry('access-report.json', json),
          // A walk that fails (the database lost) ends the entry too, or the entry would wait
          // for the rest of the JSON until the stall timer (attack S10-8).
          writeAccessPackage(deps.kernel, deps.dataMap, options, json, page).catch((error: unknown) => {
            json.destroy(error instanceof Error ? error : new Error('access package failed'));
            throw error;
          }),
        ]);
        for (const settled of [entry, walk]) if (settled.status === 'rejected') throw settled.reason;
        await zip.spooledEntry('access-report.html', page);
        await zip.end();
      } finally {
        await page.dispose();
      }
      if (!raw.writableFinished) await finished(raw);
    }
  } catch (error) {
    // The status line is out, so no error answer can follow: a failure here (the database lost
    // mid-download, attack S10-8) ends the connection at once, so the person's client sees the
    // download broken off, and the link stays usable. A client that hung up is not logged as one.
    if (!raw.destroyed) {
      request.log.error({ err: describeUnexpected(error) }, 'download failed after its first byte');
      raw.destroy();
    }
  } finally {
    keepSocket();
  }
  return delivered;
}
