import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/cli.js';
import { DATA_MAP } from '../modules/data-map.js';
import type { TableDataMap } from './datamap/datamap.js';
import { SIGN_IN_DOORS } from './gate/access.js';

/**
 * The kernel's surface, checked over the source (issue 10): nothing outside src/kernel holds the
 * Keyring, and a module reaches its tables' personal columns only through repository functions
 * that take a Grant.
 */

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const parse = (file: string, text: string): ts.SourceFile =>
  ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

/**
 * The composition root may configure the key store and the master key, and a restore may check a
 * field with a data key it unwrapped (the field cipher holds no key); nobody may take the Keyring.
 */
const ALLOWED_KEYRING_MODULES = /kernel\/keyring\/(kms|keystore\.tables|field-cipher)\.js$/;

function findKeyringUses(file: string, source: ts.SourceFile): string[] {
  const problems: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const target = node.moduleSpecifier.text;
      if (/kernel\/keyring\//.test(target) && !ALLOWED_KEYRING_MODULES.test(target))
        problems.push(`${file}: imports ${target}`);
    }
    if (ts.isIdentifier(node) && (node.text === 'keyringOf' || node.text === 'Keyring'))
      problems.push(`${file}: uses ${node.text}`);
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'keyring')
      problems.push(`${file}: reads .keyring`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

/** String literals a function's code uses, including those of module-level constants it names. */
function literalsOf(fn: ts.Node, constants: Map<string, ts.Node>): Set<string> {
  const literals = new Set<string>();
  const seen = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node)) literals.add(node.text);
    if (ts.isIdentifier(node) && constants.has(node.text) && !seen.has(node.text)) {
      seen.add(node.text);
      const constant = constants.get(node.text);
      if (constant) visit(constant);
    }
    ts.forEachChild(node, visit);
  };
  visit(fn);
  return literals;
}

/** Kysely's calls that take the written columns as an object's keys (insert values, update set). */
const WRITE_CALLS = new Set(['values', 'set', 'doUpdateSet']);

/**
 * The keys of the rows an expression stands for: an object literal's own keys (and those of what
 * it spreads), each element of an array, a variable's initializer, what a `.map`/`.flatMap`
 * callback or an arrow function returns, either branch of a condition. Values inside a row (a
 * JSON column's object, the expression a variable was computed from) are not rows.
 */
function rowKeysOf(node: ts.Node, keys: Set<string>, resolve: (name: string) => ts.Node[]): void {
  const seen = new Set<ts.Node>();
  const returned = (fn: ts.ArrowFunction | ts.FunctionExpression): ts.Node[] => {
    if (!ts.isBlock(fn.body)) return [fn.body];
    const found: ts.Node[] = [];
    const visit = (current: ts.Node): void => {
      if (ts.isReturnStatement(current) && current.expression) found.push(current.expression);
      if (!ts.isFunctionLike(current)) ts.forEachChild(current, visit);
    };
    ts.forEachChild(fn.body, visit);
    return found;
  };
  const visit = (current: ts.Node): void => {
    if (seen.has(current)) return;
    seen.add(current);
    if (ts.isObjectLiteralExpression(current)) {
      for (const property of current.properties) {
        if (
          (ts.isPropertyAssignment(property) || ts.isShorthandPropertyAssignment(property)) &&
          (ts.isIdentifier(property.name) || ts.isStringLiteralLike(property.name))
        )
          keys.add(property.name.text);
        if (ts.isSpreadAssignment(property)) visit(property.expression);
      }
    } else if (ts.isArrayLiteralExpression(current)) {
      for (const element of current.elements)
        visit(ts.isSpreadElement(element) ? element.expression : element);
    } else if (ts.isIdentifier(current)) {
      for (const target of resolve(current.text)) visit(target);
    } else if (ts.isArrowFunction(current) || ts.isFunctionExpression(current)) {
      for (const result of returned(current)) visit(result);
    } else if (
      ts.isCallExpression(current) &&
      ts.isPropertyAccessExpression(current.expression) &&
      ['map', 'flatMap'].includes(current.expression.name.text)
    ) {
      for (const argument of current.arguments) visit(argument);
    } else if (ts.isConditionalExpression(current)) {
      visit(current.whenTrue);
      visit(current.whenFalse);
    } else if (
      ts.isParenthesizedExpression(current) ||
      ts.isAsExpression(current) ||
      ts.isSatisfiesExpression(current) ||
      ts.isNonNullExpression(current)
    ) {
      visit(current.expression);
    }
  };
  visit(node);
}

/**
 * The columns a function writes as object keys (`.values({ field })`, `.set({ name: … })`,
 * `.doUpdateSet(…)`): a column named there is as written as one named in a string literal.
 * A row built first (`const row = {…}; .values(row)`, `rows.map(…)`) is followed to the
 * function's own variables and the file's constants (see rowKeysOf).
 */
function writtenKeysOf(fn: ts.Node, constants: Map<string, ts.Node>): Set<string> {
  const locals = new Map<string, ts.Node[]>();
  const collectLocals = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const known = locals.get(node.name.text) ?? [];
      known.push(node.initializer);
      locals.set(node.name.text, known);
    }
    ts.forEachChild(node, collectLocals);
  };
  collectLocals(fn);
  const resolve = (name: string): ts.Node[] => {
    const constant = constants.get(name);
    return [...(locals.get(name) ?? []), ...(constant ? [constant] : [])];
  };
  const keys = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      WRITE_CALLS.has(node.expression.name.text)
    )
      for (const argument of node.arguments) rowKeysOf(argument, keys, resolve);
    ts.forEachChild(node, visit);
  };
  visit(fn);
  return keys;
}

/**
 * A locator finds whom to ask the gate about: it only reads (no insert, update or delete) and
 * returns subject ids or a yes/no, never a value; personal columns appear in its filter only.
 */
function isLocator(fn: ts.FunctionLikeDeclaration): boolean {
  const returns = fn.type?.getText().replace(/\s/g, '');
  if (returns !== 'Promise<number[]>' && returns !== 'Promise<boolean>') return false;
  let writes = false;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && ['insertInto', 'updateTable', 'deleteFrom'].includes(node.text))
      writes = true;
    ts.forEachChild(node, visit);
  };
  visit(fn);
  return !writes;
}

/** True when the function's own code builds a query (a column named for a FieldRef is no query). */
function queries(fn: ts.FunctionLikeDeclaration): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (
      ts.isIdentifier(node) &&
      ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'sql'].includes(node.text)
    )
      found = true;
    ts.forEachChild(node, visit);
  };
  visit(fn);
  return found;
}

function takesGrant(fn: ts.FunctionLikeDeclaration): boolean {
  return fn.parameters.some((parameter) => parameter.type?.getText() === 'Grant');
}

/** The top-level functions of a file (exported or not, class methods too), and its constants. */
function functionsOf(source: ts.SourceFile): {
  functions: Array<{ name: string; node: ts.FunctionLikeDeclaration }>;
  constants: Map<string, ts.Node>;
} {
  const constants = new Map<string, ts.Node>();
  const functions: Array<{ name: string; node: ts.FunctionLikeDeclaration }> = [];
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name)
      functions.push({ name: statement.name.text, node: statement });
    if (ts.isClassDeclaration(statement)) {
      for (const member of statement.members) {
        if ((ts.isMethodDeclaration(member) || ts.isConstructorDeclaration(member)) && member.body)
          functions.push({
            name: `${statement.name?.text ?? 'class'}.${member.name?.getText() ?? 'constructor'}`,
            node: member,
          });
      }
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
        const init = declaration.initializer;
        if (ts.isArrowFunction(init) || ts.isFunctionExpression(init))
          functions.push({ name: declaration.name.text, node: init });
        else constants.set(declaration.name.text, init);
      }
    }
  }
  return { functions, constants };
}

/**
 * Every function of a module file whose code names a table and one of that table's personal
 * columns (other than the subject column, the key the gate is asked about) must take a Grant,
 * unless it is a locator (see isLocator). A service, route or job that queries a personal
 * column itself, inside `kernel.transact` or `kernel.plain`, fails: that is a repository
 * function's work, under a Grant.
 */
function findUngrantedFunctions(
  file: string,
  source: ts.SourceFile,
  maps: readonly TableDataMap[],
): string[] {
  const { functions, constants } = functionsOf(source);
  const problems: string[] = [];
  for (const { name, node } of functions) {
    const literals = literalsOf(node, constants);
    for (const key of writtenKeysOf(node, constants)) literals.add(key);
    const personal = maps.flatMap((map) =>
      literals.has(map.table)
        ? Object.keys(map.personal)
            .filter((column) => column !== map.subjectColumn && literals.has(column))
            .map((column) => `${map.table}.${column}`)
        : [],
    );
    if (personal.length > 0 && queries(node) && !takesGrant(node) && !isLocator(node))
      problems.push(`${path.relative(ROOT, file)}: ${name} touches ${personal.join(', ')} without a Grant`);
  }
  return problems;
}

/**
 * What only the kernel, the composition root, jobs and the CLI may hold: the pool and the
 * transactions around the kernel's surface. A module reaches the database through
 * `kernel.transact` and `kernel.plain` only.
 */
const CORE_ONLY = new Set(['withTenant', 'withAudit', 'appendAuditNow', 'kernelCore', 'createAppDb', 'Db']);
/**
 * The tenants module's functions take the pool from the kernel and the composition root (tenant
 * look-ups are not tenant-scoped; modules use kernel.tenants); the CDR import's COPY connection
 * is one pg client it opens as the application role (kernel.transactOn runs on it).
 */
const CORE_ONLY_EXCEPTIONS = /src\/modules\/(tenants\/|telephony\/copy-connection\.ts$)/;

function findCoreUses(file: string, source: ts.SourceFile): string[] {
  if (CORE_ONLY_EXCEPTIONS.test(file)) return [];
  const problems: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && CORE_ONLY.has(node.text)) problems.push(`${file}: uses ${node.text}`);
    if (
      ts.isPropertyAccessExpression(node) &&
      ['db', 'audit', 'erasureJournal'].includes(node.name.text) &&
      /kernel$/i.test(node.expression.getText())
    )
      problems.push(`${file}: reads kernel.${node.name.text}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...new Set(problems)];
}

/**
 * Pre-authentication doors: none is an exception to the rule any more. A read made before anyone
 * is known (a staff password login, its second factor, the privacy portal's password login) asks
 * the gate through `authorizeSignIn` (kernel/gate/access.ts), whose `SIGN_IN_DOORS` lists each
 * door with its reason; the door is the actor (a system actor), the decision is audited, and the
 * values are read through the Grant like everywhere else (decision 0200).
 *
 * What is left are functions not yet moved behind a Grant, each with the reason: none since the
 * retention evaluation reads its clocks under a grant per page (decision 0280). The list only
 * shrinks: a new entry fails the test, and so does an entry that no longer applies.
 */
const KNOWN_UNGRANTED = new Map<string, string>([]);

/** Module files checked for personal columns: all but the data maps (declarations) and test helpers. */
const isCheckedModuleFile = (file: string): boolean =>
  !file.endsWith(`${path.sep}datamap.ts`) &&
  !file.endsWith('.test-helpers.ts') &&
  !file.endsWith('data-map.ts');

describe('the kernel surface (issue 10)', () => {
  it('nothing outside src/kernel imports or holds the Keyring', async () => {
    const files = (await sourceFiles(path.join(ROOT, 'src'))).filter(
      (file) => !file.startsWith(path.join(ROOT, 'src', 'kernel') + path.sep),
    );
    const problems: string[] = [];
    for (const file of files)
      problems.push(...findKeyringUses(path.relative(ROOT, file), parse(file, await readFile(file, 'utf8'))));
    expect(problems).toEqual([]);
  });

  it('the keyring check catches an import, the accessor and a property read', () => {
    const source = parse(
      'x.ts',
      "import { Keyring } from '../../kernel/keyring/keyring.js';\nconst a = kernel.keyring;\nkeyringOf(kernel);",
    );
    expect(findKeyringUses('x.ts', source)).toEqual([
      'x.ts: imports ../../kernel/keyring/keyring.js',
      'x.ts: uses Keyring',
      'x.ts: reads .keyring',
      'x.ts: uses keyringOf',
    ]);
  });

  it('no module function reads or writes a personal column of the data map without a Grant', async () => {
    const files = (await sourceFiles(path.join(ROOT, 'src', 'modules'))).filter(isCheckedModuleFile);
    expect(files.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const file of files)
      problems.push(...findUngrantedFunctions(file, parse(file, await readFile(file, 'utf8')), DATA_MAP));
    const known = (problem: string): string => problem.replace(/ touches .*$/, '');
    expect(problems.filter((problem) => !KNOWN_UNGRANTED.has(known(problem)))).toEqual([]);
    // The list only shrinks: remove an entry once its function takes a Grant.
    expect([...KNOWN_UNGRANTED.keys()].filter((entry) => !problems.map(known).includes(entry))).toEqual([]);
  });

  it('every pre-authentication door says why it reads before anyone is known', () => {
    expect(Object.keys(SIGN_IN_DOORS).sort()).toEqual(['rights-portal', 'staff-auth']);
    for (const reason of Object.values(SIGN_IN_DOORS)) expect(reason.length).toBeGreaterThan(20);
  });

  it('no module holds the pool or opens a transaction around the kernel (only kernel.transact and kernel.plain)', async () => {
    const files = await sourceFiles(path.join(ROOT, 'src', 'modules'));
    const problems: string[] = [];
    for (const file of files) {
      const relative = path.relative(ROOT, file);
      problems.push(...findCoreUses(relative, parse(file, await readFile(file, 'utf8'))));
    }
    expect(problems).toEqual([]);
  });

  it('the core check catches the pool, a bare transaction and the kernel core', () => {
    const source = parse(
      'src/modules/x/x.service.ts',
      `import { withTenant, type Db } from '../../platform/db.js';
       import { kernelCore } from '../../kernel/kernel.js';
       export const a = (kernel: Kernel) => withTenant(kernel.db, 1, (tx) => tx.selectFrom('people').execute());
       export const b = (kernel: Kernel) => kernelCore(kernel).audit;`,
    );
    expect(findCoreUses('src/modules/x/x.service.ts', source)).toEqual([
      'src/modules/x/x.service.ts: uses withTenant',
      'src/modules/x/x.service.ts: uses Db',
      'src/modules/x/x.service.ts: uses kernelCore',
      'src/modules/x/x.service.ts: reads kernel.db',
    ]);
  });

  it('the column check catches a service that queries a personal column inside kernel.plain or kernel.transact', () => {
    const file = path.join(ROOT, 'src/modules/x/x.service.ts');
    const source = parse(
      file,
      `export async function findName(kernel: Kernel, tenantId: number, id: number) {
         return kernel.plain(tenantId, (tx) => tx.selectFrom('people').select('family_name').where('subject_id', '=', id).execute());
       }
       class Lister { async list(kernel: Kernel) { return kernel.transact(1, (atx) => atx.tx.selectFrom('people').select(['given_name']).execute()); } }
       export async function countPeople(kernel: Kernel, tenantId: number) {
         return kernel.plain(tenantId, (tx) => tx.selectFrom('people').select((eb) => eb.fn.countAll().as('n')).execute());
       }`,
    );
    expect(findUngrantedFunctions(file, source, DATA_MAP)).toEqual([
      'src/modules/x/x.service.ts: findName touches people.family_name without a Grant',
      'src/modules/x/x.service.ts: Lister.list touches people.given_name without a Grant',
    ]);
  });

  it('the column check sees personal columns written as object keys (insert values, update set, a row built first, rows mapped)', () => {
    const file = path.join(ROOT, 'src/modules/x/x.service.ts');
    const source = parse(
      file,
      `const base = { subject_id: 1 };
       export async function insertShorthand(atx: AuditedTx, field: string) {
         await atx.tx.insertInto('dossier_share_links').values({ tenant_id: 1, subject_id: 2, field }).execute();
       }
       export async function updateNamed(tx: Tx, id: number) {
         await tx.updateTable('people').set({ family_name: 'X' }).where('subject_id', '=', id).execute();
       }
       export async function insertBuilt(tx: Tx, rows: Array<{ id: number; name: string }>) {
         const row = { ...base, given_name: 'Jo' };
         await tx.insertInto('people').values(row).execute();
         await tx.insertInto('people').values(rows.map((r) => { return { subject_id: r.id, email_enc: r.name }; })).execute();
       }
       export async function insertGranted(tx: Tx, grant: Grant, field: string) {
         await tx.insertInto('dossier_share_links').values({ field }).execute();
       }
       export async function notAColumn(tx: Tx, input: { family_name: string }) {
         const minor = input.family_name ? 'x' : null;
         await tx.updateTable('people').set({ notes_checked: minor }).execute();
       }`,
    );
    expect(findUngrantedFunctions(file, source, DATA_MAP)).toEqual([
      'src/modules/x/x.service.ts: insertShorthand touches dossier_share_links.field without a Grant',
      'src/modules/x/x.service.ts: updateNamed touches people.family_name without a Grant',
      'src/modules/x/x.service.ts: insertBuilt touches people.given_name, people.email_enc without a Grant',
    ]);
  });

  it('the repository check catches a function that selects a personal column without a Grant', () => {
    const source = parse(
      path.join(ROOT, 'src/modules/x/x.repository.ts'),
      `const columns = ['subject_id', 'family_name'] as const;
       export async function selectNames(tx: Tx) { return tx.selectFrom('people').select(columns).execute(); }
       export async function selectNamesGranted(tx: Tx, grant: Grant) { return tx.selectFrom('people').select(columns).execute(); }
       export async function selectIds(tx: Tx) { return tx.selectFrom('people').select('subject_id').execute(); }
       export async function findByName(tx: Tx, name: string): Promise<number[]> { return tx.selectFrom('people').select('subject_id').where('family_name', '=', name).execute(); }
       export async function deleteByName(tx: Tx, name: string): Promise<number[]> { return tx.deleteFrom('people').where('family_name', '=', name).execute(); }`,
    );
    expect(
      findUngrantedFunctions(path.join(ROOT, 'src/modules/x/x.repository.ts'), source, DATA_MAP),
    ).toEqual([
      'src/modules/x/x.repository.ts: selectNames touches people.family_name without a Grant',
      'src/modules/x/x.repository.ts: deleteByName touches people.family_name without a Grant',
    ]);
  });
});
