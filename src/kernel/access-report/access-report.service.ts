import { sql } from 'kysely';
import { securitySecretColumns, type TableDataMap } from '../datamap/datamap.js';
import { readConsultations, type AuditedTx } from '../audit/index.js';
import type { Actor, Grant } from '../gate/gate.js';
import { kernelCore, type Kernel } from '../kernel.js';
import type { Language, Policy } from '../policy/policy.schema.js';
import { authorityPurposeKeys, retentionRulesFor, legalHoldsFor } from '../policy/policy.query.js';
import type { Tx } from '../../platform/db.js';
import { ACCESS_REPORT_FORMAT, type AccessReport } from './access-report.schema.js';
import { copyOutClient } from '../../platform/copy-out.js';
import { copyPlan, orderByKey, readCopiedRows, shownColumns, type CopyPlan } from './copy-rows.js';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { findConfidentialPurposes, findSubjectDisclosures } from '../disclosure/disclosure.js';
import { accessReportHtmlHead, accessReportHtmlRow, accessReportHtmlTail } from './access-report.html.js';

export interface AccessReportOptions {
  tenantId: number;
  actor: Actor;
  /** A rights purpose (the gate refuses others for a whole-person export). */
  purpose: string;
  subjectId: number;
  language: Language;
  requestId?: string;
}

const PAGE = 1000;

/**
 * The complete access report of one person: every datum the data map knows, by category, with
 * purposes and legal bases, recipients, retention, sources and legal holds. Walks the data map;
 * no module has its own export code. One gate decision (action `export`), audited. Held in
 * memory: for a download, writeAccessReportJson streams the same document.
 */
export async function buildAccessReport(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
): Promise<AccessReport> {
  const data: AccessReport['data'] = [];
  const rest = await walkAccessReport(kernel, dataMap, options, async ({ table, columns, rows }) => {
    const pieces: Buffer[] = [];
    for await (const piece of rows) pieces.push(piece);
    const parsed = JSON.parse(
      `[${Buffer.concat(pieces).toString('utf8')}]`,
    ) as AccessReport['data'][number]['rows'];
    if (parsed.length > 0) data.push({ ...table, columns, rows: parsed });
  });
  const { format, generatedAt, language, controller, supervisoryAuthority, policyVersion, subject } = rest;
  return {
    format,
    generatedAt,
    language,
    controller,
    supervisoryAuthority,
    policyVersion,
    subject,
    categories: rest.categories,
    data,
    purposes: rest.purposes,
    recipients: rest.recipients,
    disclosures: rest.disclosures,
    consultations: rest.consultations,
    withheld: rest.withheld,
    automatedDecisions: rest.automatedDecisions,
  };
}

/**
 * The access report as JSON text written to `output` while the rows are read (the same document
 * as buildAccessReport, `data` first): memory stays flat however long the person's history is.
 */
export async function writeAccessReportJson(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
  output: Writable,
): Promise<void> {
  await writeReport(kernel, dataMap, options, output);
}

/** Where a second document goes while the first is written (a ZIP entry deflated aside). */
export interface TextSink {
  write(piece: string): Promise<void>;
}

/**
 * The access package of a mailed link (decision 0492): the JSON report written to `json` and, from
 * the same walk of the data (one gate decision, one snapshot), the HTML report
 * (writeAccessReportHtml's document) written to `html`. Memory stays flat if `html` does.
 */
export async function writeAccessPackage(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
  json: Writable,
  html: TextSink,
): Promise<void> {
  await writeReport(kernel, dataMap, options, json, html);
}

async function writeReport(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
  output: Writable,
  html?: TextSink,
): Promise<void> {
  const writer = chunkedWriter(output);
  const page = html ? await htmlWriter(kernel, options, html) : undefined;
  await writer.write('{"data":[');
  let tables = 0;
  const rest = await walkAccessReport(kernel, dataMap, options, async ({ table, columns, rows }) => {
    let started = false;
    for await (const piece of rows) {
      if (!started) {
        const head = JSON.stringify({ ...table, columns });
        await writer.write(`${tables > 0 ? ',' : ''}\n${head.slice(0, -1)},"rows":[\n`);
        tables += 1;
        started = true;
      }
      await writer.write(piece);
      await page?.rows(piece, table.table, columns);
    }
    if (started) await writer.write('\n]}');
  });
  await writer.write(`\n],${JSON.stringify(rest).slice(1)}\n`);
  await writer.end();
  await page?.end(rest);
}

/** The HTML report's writer into a sink: its head now, rows from the JSON pieces, its tail at the end. */
async function htmlWriter(
  kernel: Kernel,
  options: AccessReportOptions,
  sink: TextSink,
): Promise<{
  rows(piece: Buffer, table: string, columns: Record<string, string>): Promise<void>;
  end(rest: AccessReportContext): Promise<void>;
}> {
  const { policy } = await kernel.policies.current(options.tenantId);
  const labelOf = (key: string): string => policy.categories[key]?.label[options.language] ?? key;
  let buffer: string[] = [
    accessReportHtmlHead({ language: options.language, controller: controllerOf(policy) }),
  ];
  let size = 0;
  const flush = async (): Promise<void> => {
    const text = buffer.join('');
    buffer = [];
    size = 0;
    await sink.write(text);
  };
  return {
    async rows(bytes, table, columns) {
      // A piece holds whole rows, separated by ',\n' (and led by one after the first piece).
      const piece = bytes.toString('utf8');
      const parsed = JSON.parse(`[${piece.startsWith(',') ? piece.slice(1) : piece}]`) as Array<
        AccessReport['data'][number]['rows'][number]
      >;
      for (const row of parsed) {
        const text = accessReportHtmlRow(row, {
          table,
          columns,
          language: options.language,
          labelOf,
          purposeLabel: (key) => policy.purposes[key]?.label[options.language],
        });
        buffer.push(text);
        size += text.length;
      }
      if (size >= 65_536) await flush();
    },
    async end(rest) {
      buffer.push(accessReportHtmlTail(rest));
      await flush();
    },
  };
}

/**
 * What the person's access report holds (its categories and tables) without rendering it: what
 * a fulfilled request records. The same audited gate decision as the report itself; tables that
 * PostgreSQL renders are answered by one aggregate each, not read.
 */
export async function describeAccessReport(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
): Promise<{ categories: string[]; tables: string[] }> {
  const tables: string[] = [];
  const rest = await walkAccessReport(
    kernel,
    dataMap,
    options,
    async ({ table, rows, presentCategories }) => {
      if (presentCategories) {
        if ((await presentCategories()).length > 0) tables.push(table.table);
        return;
      }
      // Every row is read: the categories present are gathered as the rows are rendered.
      let shown = false;
      for await (const piece of rows) if (piece.length > 0) shown = true;
      if (shown) tables.push(table.table);
    },
  );
  return { categories: rest.categories.map((category) => category.key), tables };
}

/** Buffers small writes into ~64 KiB chunks and waits when the output is full (backpressure). */
function chunkedWriter(output: Writable): {
  write(text: string | Buffer): Promise<void>;
  end(): Promise<void>;
} {
  let buffer: string[] = [];
  let size = 0;
  const send = async (chunk: string | Buffer): Promise<void> => {
    // An output that went away (the client hung up) stops the walk: its transaction rolls back.
    if (output.destroyed || output.writableEnded) throw new Error('report output closed');
    if (output.write(chunk)) return;
    if (output.destroyed) throw new Error('report output closed');
    const waiting = new AbortController();
    try {
      await Promise.race([
        once(output, 'drain', { signal: waiting.signal }),
        once(output, 'close', { signal: waiting.signal }).then(() => {
          throw new Error('report output closed');
        }),
      ]);
    } finally {
      waiting.abort();
    }
  };
  const flush = async (): Promise<void> => {
    if (size === 0) return;
    const chunk = buffer.join('');
    buffer = [];
    size = 0;
    await send(chunk);
  };
  return {
    async write(text) {
      if (typeof text !== 'string') {
        // Rows already in bytes (copy-rows.ts) go as they are, after what is buffered.
        await flush();
        await send(text);
        return;
      }
      buffer.push(text);
      size += text.length;
      if (size >= 65_536) await flush();
    },
    async end() {
      await flush();
      output.end();
      await finished(output);
    },
  };
}

type ReportTable = { table: string; module: string };

/** One table of the walk: its rows in the report's shape, as text. */
interface WalkedTable {
  table: ReportTable;
  /** Each column the rows may name, with its category (format v2: said once per table). */
  columns: Record<string, string>;
  /**
   * The rows as JSON texts (`{"column":value}`) separated by ',\n', in pieces of whole rows (a piece after the first
   * starts with the separator). Read at most once; reading them records the categories present.
   */
  rows: AsyncIterable<Buffer>;
  /**
   * For a table whose rows need no decryption: its categories present, from one aggregate
   * instead of the rows (and recorded as present). Read the rows or ask this, not both.
   */
  presentCategories?: () => Promise<string[]>;
}

/**
 * Walks the data map for one person under one audited gate decision: hands each table's rows to
 * `onTable`, then returns the rest of the report. Rows that need no decryption come from
 * `COPY … TO` on the transaction's own connection (copy-rows.ts, decision 0430); the others are
 * read through a cursor and decrypted through the grant (renderRow).
 */
async function walkAccessReport(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
  onTable: (walked: WalkedTable) => Promise<void>,
): Promise<Omit<AccessReport, 'data'>> {
  const { policy } = await kernel.policies.current(options.tenantId);
  // The consultations read at the end include entries still pending (decision 0455): they are
  // chained now, before the walk's transaction holds a connection (decision 0583).
  await kernel.auditLog.chainPending(options.tenantId);
  return kernel.transact(options.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, options.actor, {
      purpose: options.purpose,
      action: 'export',
      categories: declaredCategories(policy, dataMap),
      subjectIds: [options.subjectId],
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    const present = new Set<string>();
    const client = await copyOutClient(kernelCore(kernel).db, atx.tx);
    for (const map of dataMap) {
      if (!map.subjectColumn || Object.keys(map.personal).length === 0) continue;
      const table = { table: map.table, module: map.module };
      const columns = Object.fromEntries(
        shownColumns(map).map(([column, declaration]) => [column.replace(/_enc$/, ''), declaration.category]),
      );
      const plan = client ? await copyPlan(atx.tx, map, options.subjectId) : undefined;
      if (client && plan) {
        await onTable({
          table,
          columns,
          rows: (async function* () {
            const copied = readCopiedRows(client, plan, 'record', ',\n');
            yield* copied.pieces;
            for (const category of copied.writer.categories) present.add(category);
          })(),
          presentCategories: async () => {
            const categories = await presentCategories(atx.tx, map, plan, options.subjectId);
            for (const category of categories) present.add(category);
            return categories;
          },
        });
        continue;
      }
      await onTable({
        table,
        columns,
        rows: (async function* () {
          let first = true;
          for await (const row of readSubjectRows(atx.tx, map, options.subjectId)) {
            const cells = await renderRow(grant, map, row, options.subjectId);
            if (Object.keys(cells).length === 0) continue;
            const record: Record<string, unknown> = {};
            for (const [column, cell] of Object.entries(cells)) {
              present.add(cell.category);
              record[column] = cell.value;
            }
            yield Buffer.from(`${first ? '' : ',\n'}${JSON.stringify(record)}`, 'utf8');
            first = false;
          }
        })(),
      });
    }
    return describeReport(kernel, atx, grant, dataMap, options, present);
  });
}

/** Everything of the access report but the data itself: who, why, for how long, to whom. */
export type AccessReportContext = Omit<AccessReport, 'data'>;

/** The controller as the report names it. */
function controllerOf(policy: Policy): AccessReport['controller'] {
  const controller = policy.controller;
  return {
    name: `${controller.legalName} ${controller.legalForm}`,
    enterpriseNumber: controller.enterpriseNumber,
    address: `${controller.address.street}, ${controller.address.postalCode} ${controller.address.city}`,
    email: controller.email,
    privacyContact: controller.privacyContact.email,
  };
}

/**
 * The report's words around the data, for the categories `present`: subject state and consents,
 * categories with retention and holds, purposes, recipients, disclosures, withheld secrets. Shared
 * by the report and the portal's "my data" overview (access-report.pages.ts), so both say the same.
 */
export async function describeReport(
  kernel: Kernel,
  atx: AuditedTx,
  grant: Grant,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
  present: ReadonlySet<string>,
): Promise<AccessReportContext> {
  const { policy, statementVersion } = await kernel.policies.current(options.tenantId);
  const lang = options.language;
  const subject = await atx.tx
    .selectFrom('data_subjects')
    .select(['subject_type', 'restricted_at', 'marketing_objected_at'])
    .where('subject_id', '=', options.subjectId)
    .executeTakeFirstOrThrow();
  const consents = await atx.tx
    .selectFrom('subject_purpose_states')
    .select(['purpose', 'state', 'changed_at', 'policy_version'])
    .where('subject_id', '=', options.subjectId)
    .orderBy('purpose')
    .execute();
  const withheld = await findWithheldSecrets(atx.tx, dataMap, options.subjectId);
  const purposes = Object.entries(policy.purposes).filter(([, purpose]) =>
    purpose.subjectTypes.includes(subject.subject_type),
  );
  const categories = [...present].sort().map((key) => {
    const category = policy.categories[key];
    return {
      key,
      label: category?.label[lang] ?? key,
      source: category?.source?.[lang] ?? null,
      retention: retentionRulesFor(policy, key).map((ref) => ({
        rule: ref.key,
        kind: ref.rule.kind,
        description: ref.rule.description?.[lang] ?? null,
      })),
      legalHolds: legalHoldsFor(policy, key).map(({ key: holdKey, hold }) => ({
        key: holdKey,
        label: hold.label[lang],
        legalReference: hold.legalReference,
      })),
      purposes: purposes
        .filter(([, purpose]) => purpose.categories.includes(key))
        .map(([purposeKey]) => purposeKey),
    };
  });
  const recipients = Object.entries(policy.recipients)
    .filter(([, recipient]) => recipient.categories.some((key) => present.has(key)))
    .map(([key, recipient]) => ({
      key,
      label: recipient.label[lang],
      kind: recipient.kind,
      country: recipient.country,
      categories: recipient.categories.filter((category) => present.has(category)),
      purposes: recipient.purposes,
    }));
  const authority = policy.supervisoryAuthority;
  return {
    format: ACCESS_REPORT_FORMAT,
    generatedAt: kernel.clock.now().toISOString(),
    language: lang,
    controller: controllerOf(policy),
    supervisoryAuthority: {
      name: authority.name[lang],
      address: `${authority.address.street}, ${authority.address.postalCode} ${authority.address.city}`,
      email: authority.email,
      website: authority.website,
    },
    policyVersion: statementVersion,
    subject: {
      type: subject.subject_type,
      typeLabel: policy.subjectTypes[subject.subject_type]?.label[lang] ?? subject.subject_type,
      restricted: subject.restricted_at !== null,
      objectedToDirectMarketing: subject.marketing_objected_at !== null,
      consents: consents.map((consent) => ({
        purpose: consent.purpose,
        state: consent.state,
        since: consent.changed_at.toISOString(),
        policyVersion: consent.policy_version,
      })),
    },
    categories,
    purposes: purposes.map(([key, purpose]) => ({
      key,
      label: purpose.label[lang],
      legalBasis: purpose.legalBasis,
      categories: purpose.categories,
    })),
    recipients,
    // Art. 15(1)(c): every disclosure that concerned the person (VK-10), except while an
    // authority's request forbids telling (kernel/disclosure).
    disclosures: (
      await findSubjectDisclosures(
        kernel,
        atx,
        policy,
        options.subjectId,
        kernel.clock.now().toISOString().slice(0, 10),
        lang,
      )
    ).map((disclosure) => ({
      at: disclosure.at,
      recipient: disclosure.recipient,
      legalGround: disclosure.legalGround,
      categories: disclosure.categories,
    })),
    consultations: await consultationsOf(kernel, atx, grant, policy, options.language),
    withheld: { note: WITHHELD_NOTE[lang], items: withheld },
    automatedDecisions: AUTOMATED_DECISIONS[lang],
  };
}

/**
 * Who consulted the data (decision 0590); the walk chained the pending entries before it began (0583).
 * Consultations under a purpose the policy gives authorities are left out (attack S9-1): an
 * authority's request may be registered, awaiting approval or refused without any disclosure,
 * and may not be told; a disclosure made is told in `disclosures` once its silence ends.
 */
async function consultationsOf(
  kernel: Kernel,
  atx: AuditedTx,
  grant: Grant,
  policy: Policy,
  language: Language,
): Promise<AccessReport['consultations']> {
  const subjectId = [...grant.subjectIds][0] ?? 0;
  const today = kernel.clock.now().toISOString().slice(0, 10);
  return readConsultations(atx, grant, {
    pseudonym: await kernel.keys.pseudonym(atx.tenantId, subjectId),
    policy,
    language,
    hiddenPurposes: [
      ...authorityPurposeKeys(policy),
      ...(await findConfidentialPurposes(kernel, atx, subjectId, today)),
    ],
  });
}

const AUTOMATED_DECISIONS: Record<Language, string> = {
  nl: 'Er worden over u geen beslissingen genomen die uitsluitend op geautomatiseerde verwerking, waaronder profilering, berusten.',
  fr: "Aucune décision fondée exclusivement sur un traitement automatisé, y compris le profilage, n'est prise à votre égard.",
  en: 'No decisions are taken about you based solely on automated processing, including profiling.',
};

/** Why security secrets are not in the report or the export (GDPR Art. 15(4)). */
export const WITHHELD_NOTE: Record<Language, string> = {
  nl: 'Voor de veiligheid van uw account nemen we de beveiligingsgeheimen ervan niet op: het wachtwoord (alleen als onomkeerbare hash bewaard), het geheim van de tweede factor, herstelcodes en sessie- of aanmeldtokens. Wie dit overzicht in handen krijgt, zou er anders uw account mee kunnen overnemen (AVG art. 15, lid 4). Ze worden samen met de account gewist.',
  fr: "Pour la sécurité de votre compte, ses secrets de sécurité ne sont pas repris : le mot de passe (conservé uniquement sous forme d'empreinte irréversible), le secret du second facteur, les codes de récupération et les jetons de session ou de connexion. Quiconque obtiendrait ce rapport pourrait sinon prendre le contrôle de votre compte (RGPD art. 15, par. 4). Ils sont effacés avec le compte.",
  en: 'For the security of your account, its security secrets are left out: the password (kept only as a one-way hash), the second-factor secret, recovery codes and session or login tokens. Anyone who obtained this report could otherwise take over your account (GDPR Art. 15(4)). They are erased with the account.',
};

export interface WithheldSecret {
  table: string;
  column: string;
  category: string;
}

/** The security secrets the data map flags that the person has a value in (left out, but named). */
export async function findWithheldSecrets(
  tx: Tx,
  dataMap: readonly TableDataMap[],
  subjectId: number,
): Promise<WithheldSecret[]> {
  const items: WithheldSecret[] = [];
  for (const map of dataMap) {
    if (!map.subjectColumn) continue;
    for (const column of securitySecretColumns(map)) {
      const found = await sql<{ held: boolean }>`select exists (select 1 from ${sql.table(map.table)}
        where ${sql.ref(map.subjectColumn)} = ${subjectId} and ${sql.ref(column)} is not null) as held`.execute(
        tx,
      );
      if (found.rows[0]?.held)
        items.push({ table: map.table, column, category: map.personal[column]?.category ?? '' });
    }
  }
  return items;
}

export function declaredCategories(policy: Policy, dataMap: readonly TableDataMap[]): string[] {
  const keys = new Set<string>();
  for (const map of dataMap)
    for (const column of Object.values(map.personal))
      if (policy.categories[column.category]) keys.add(column.category);
  return [...keys];
}

type Row = Record<string, unknown>;

/** Reads a subject's rows of one table through a cursor, a page at a time (constant memory). */
export async function* readSubjectRows(
  tx: Tx,
  map: TableDataMap,
  subjectId: number,
  cursorSuffix = '',
): AsyncGenerator<Row> {
  const cursor = `kluis_export_${map.table}${cursorSuffix}`;
  // In the table's key order: the same rows come out in the same order (decision 0838).
  const order = sql.raw(await orderByKey(tx, map));
  await sql`declare ${sql.id(cursor)} no scroll cursor for select * from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId}${order}`.execute(
    tx,
  );
  try {
    for (;;) {
      const page = await sql<Row>`fetch forward ${sql.lit(PAGE)} from ${sql.id(cursor)}`.execute(tx);
      for (const row of page.rows) yield row;
      if (page.rows.length < PAGE) return;
    }
  } finally {
    await sql`close ${sql.id(cursor)}`.execute(tx);
  }
}

/** What a report shows in place of a masked secret's value. */
export const MASKED = '********';

/**
 * The personal cells of a row, decrypted through the grant; blind indexes and security secrets
 * (never shown, GDPR Art. 15(4)) are left out, masked secrets (dossier passwords) shown masked.
 */
export async function renderRow(
  grant: Grant,
  map: TableDataMap,
  row: Row,
  subjectId: number,
): Promise<Record<string, { category: string; value: unknown }>> {
  const cells: Record<string, { category: string; value: unknown }> = {};
  for (const [column, declaration] of Object.entries(map.personal)) {
    if (declaration.blindIndexOf || declaration.securitySecret) continue;
    const raw = row[column];
    if (raw === null || raw === undefined) continue;
    let value: unknown = raw;
    if (declaration.masked) {
      value = MASKED;
    } else if (declaration.encrypted && Buffer.isBuffer(raw)) {
      const rowIdValue = row[map.rowIdColumn ?? map.subjectColumn ?? ''];
      const rowId =
        typeof rowIdValue === 'string' || typeof rowIdValue === 'number' ? String(rowIdValue) : '';
      const text = await grant.decrypt(
        declaration.category,
        subjectId,
        { table: map.table, column, rowId },
        raw,
        declaration.keyScope,
      );
      if (text === null) continue;
      value = parseStoredValue(text);
    } else if (raw instanceof Date) {
      value = raw.toISOString();
    } else if (Buffer.isBuffer(raw)) {
      continue;
    }
    cells[column.replace(/_enc$/, '')] = { category: declaration.category, value };
  }
  return cells;
}

/** Encrypted values are strings, or JSON for structured ones (an address). */
function parseStoredValue(text: string): unknown {
  if (!text.startsWith('{') && !text.startsWith('[')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The categories of a table that hold a value for the subject, in one aggregate: for tables whose
 * rows need no decryption (copyPlan), where a value shown is a value present.
 */
async function presentCategories(
  tx: Tx,
  map: TableDataMap,
  plan: CopyPlan,
  subjectId: number,
): Promise<string[]> {
  const columns = plan.columns.filter((column) => column.kind !== 'hidden');
  if (!map.subjectColumn || columns.length === 0) return [];
  const result = await sql<Record<string, boolean | null>>`select ${sql.join(
    columns.map(
      (column, index) => sql`bool_or(${sql.ref(column.column)} is not null) as ${sql.id(`c${index}`)}`,
    ),
  )} from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn)} = ${subjectId}`.execute(tx);
  const row = result.rows[0] ?? {};
  return [
    ...new Set(columns.filter((_, index) => row[`c${index}`] === true).map((column) => column.category)),
  ];
}
