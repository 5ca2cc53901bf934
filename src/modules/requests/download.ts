import type { FastifyReply, FastifyRequest } from 'fastify';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  EXPORT_DEFLATE_LEVEL,
  streamPortabilityZip,
  writeAccessReportHtml,
  writeAccessReportJson,
} from '../../kernel/access-report/index.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { ZipStream } from '../../platform/zip-stream.js';
import { completeDownload, consumeDownload, RIGHTS_PURPOSE, type RequestsDeps } from './requests.service.js';

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
  const { tenant, request: rightsRequest } = await consumeDownload(deps, slug, token);
  const subjectId = rightsRequest.subject_id ?? 0;
  const options = {
    tenantId: tenant.tenantId,
    actor: { kind: 'system' as const, job: 'rights-download' },
    purpose: RIGHTS_PURPOSE,
    subjectId,
    language: rightsRequest.language,
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
  try {
    if (rightsRequest.kind === 'portability') {
      await streamPortabilityZip(deps.kernel, deps.dataMap, options, raw);
    } else {
      // The JSON and the HTML are written while the rows are read, a page at a time, one file
      // after the other (the ZIP reads its entries in order): memory stays flat however long
      // the person's history is (call records).
      const zip = new ZipStream(raw, { level: EXPORT_DEFLATE_LEVEL, modified: deps.kernel.clock.now() });
      const json = new PassThrough();
      const page = new PassThrough();
      // An entry's reader and writer report its failure through the promises awaited below; the
      // HTML entry is not read yet while the JSON is written, and an error event nobody listens
      // to would end the whole process (attack S7-0).
      for (const entry of [json, page]) entry.on('error', () => undefined);
      // The person went away: stop reading their rows.
      raw.once('close', () => {
        if (raw.writableFinished) return;
        json.destroy(new Error('download interrupted'));
        page.destroy(new Error('download interrupted'));
      });
      await Promise.all([
        zip.entry('access-report.json', json),
        writeAccessReportJson(deps.kernel, deps.dataMap, options, json),
      ]);
      await Promise.all([
        zip.entry('access-report.html', page),
        writeAccessReportHtml(deps.kernel, deps.dataMap, options, page),
      ]);
      await zip.end();
      if (!raw.writableFinished) await finished(raw);
    }
  } catch (error) {
    if (!raw.destroyed || raw.writableFinished) throw error;
  }
  if (await delivered) await completeDownload(deps, tenant.tenantId, token);
  else request.log.info('download interrupted; the link stays usable');
  return reply;
}
