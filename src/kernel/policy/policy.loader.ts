/**
 * Reads a policy file: YAML → schema → cross-references, with every problem located at
 * file:line:column so the person editing the YAML can jump to it.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import { PolicyValidationError } from './policy.errors.js';
import type { PolicyIssue } from './policy.errors.js';
import { checkNewVersionRules, checkPolicyReferences } from './policy.references.js';
import type { PathSegment } from './policy.references.js';
import { PolicySchema } from './policy.schema.js';
import type { Policy } from './policy.schema.js';

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; issues: PolicyIssue[] };

/** How a source is validated: as a new version (every rule), or a version already stored. */
export interface ValidationOptions {
  /**
   * A version read back from the database: the rules for new versions (checkNewVersionRules),
   * added after it may have been installed, are not applied to it (decision 0871).
   */
  stored?: boolean;
}

/** Validates policy source text; `file` is only used to name the location in issues. */
export function validatePolicySource(
  source: string,
  file: string,
  options: ValidationOptions = {},
): PolicyParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error): PolicyIssue => {
      const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
      return {
        file,
        line: pos.line,
        column: pos.col,
        path: '',
        message: `YAML syntax error: ${firstLine(error.message)}`,
      };
    });
    return { ok: false, issues };
  }

  const locate = (path: readonly PathSegment[], message: string, onKey = false): PolicyIssue => {
    const offset = findOffset(doc, path, onKey);
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col, path: formatPath(path), message };
  };

  const parsed = PolicySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      ok: false,
      issues: sortIssues(parsed.error.issues.flatMap((issue) => zodIssueToPolicyIssues(issue, locate))),
    };
  }

  const refIssues = [
    ...checkPolicyReferences(parsed.data),
    ...(options.stored ? [] : checkNewVersionRules(parsed.data)),
  ];
  if (refIssues.length > 0) {
    return { ok: false, issues: sortIssues(refIssues.map((issue) => locate(issue.path, issue.message))) };
  }
  return { ok: true, policy: withoutPrototypes(parsed.data) };
}

/** The policy's keyed sections, whose keys callers look up with untrusted input (a purpose header, a role in a body). */
const KEYED_SECTIONS = [
  'subjectTypes',
  'categories',
  'retentionRules',
  'legalHolds',
  'roles',
  'purposes',
  'recipients',
] as const satisfies ReadonlyArray<keyof Policy>;

/**
 * Re-creates the keyed sections as objects without a prototype, so that a lookup such as
 * `policy.purposes['constructor']` finds nothing instead of Object.prototype's members. Lookups
 * still go through Object.hasOwn (policy.query.ts); this is the second line.
 */
function withoutPrototypes(policy: Policy): Policy {
  const copy: Policy = { ...policy };
  for (const section of KEYED_SECTIONS) {
    (copy as Record<(typeof KEYED_SECTIONS)[number], object>)[section] = Object.assign(
      Object.create(null) as object,
      policy[section],
    );
  }
  return copy;
}

/** Like validatePolicySource, but throws PolicyValidationError (code `invalid_policy`). */
export function parsePolicy(source: string, file: string, options: ValidationOptions = {}): Policy {
  const result = validatePolicySource(source, file, options);
  if (!result.ok) throw new PolicyValidationError(result.issues);
  return result.policy;
}

/** Reads and validates a policy file; the path as given is used in error locations. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  return parsePolicy(await readFile(path, 'utf8'), path);
}

type Locate = (path: readonly PathSegment[], message: string, onKey?: boolean) => PolicyIssue;

function zodIssueToPolicyIssues(issue: z.core.$ZodIssue, locate: Locate): PolicyIssue[] {
  const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    // One issue per key, pointing at the key itself, so a typo is found at once.
    return issue.keys.map((key) => locate([...path, key], `unknown key "${key}"`, true));
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? issue.message;
    return [locate(path, `invalid key: ${inner}`, true)];
  }
  return [locate(path, issue.message)];
}

/**
 * The offset to report for `path`: the value for a scalar, the key for a whole map or list
 * (its first line is its name), and the nearest existing key when part of the path is missing.
 */
function findOffset(doc: Document, path: readonly PathSegment[], onKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    const isLast = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) return offset;
      const keyStart = rangeStart(pair.key);
      node = pair.value;
      if (keyStart !== undefined && onKey && isLast) return keyStart;
      // A key without a value (`legalBasis:`) or with a collection: point at the key.
      offset =
        (isMap(node) || isSeq(node) || rangeStart(node) === undefined ? keyStart : rangeStart(node)) ??
        offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      const start = rangeStart(node);
      if (start === undefined) return offset;
      offset = start;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? (node as Node).range?.[0] : undefined;
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `purposes.newsletter.categories[2]`; keys that are not identifiers are quoted: `categories["user.name"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function sortIssues(issues: PolicyIssue[]): PolicyIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
