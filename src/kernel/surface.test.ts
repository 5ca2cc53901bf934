import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../test/cli.js';
import { DATA_MAP } from '../modules/data-map.js';
import type { TableDataMap } from './datamap/datamap.js';

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

/** The composition root may configure the key store and the master key; nobody may take the Keyring. */
const ALLOWED_KEYRING_MODULES = /kernel\/keyring\/(kms|keystore\.tables)\.js$/;

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

function takesGrant(fn: ts.FunctionLikeDeclaration): boolean {
  return fn.parameters.some((parameter) => parameter.type?.getText() === 'Grant');
}

/**
 * Every exported function of a repository whose code names a table and one of that table's
 * personal columns (other than the subject column, the key the gate is asked about) must take a
 * Grant, unless it is a locator (see isLocator).
 */
function findUngrantedRepositoryFunctions(
  file: string,
  source: ts.SourceFile,
  maps: readonly TableDataMap[],
): string[] {
  const constants = new Map<string, ts.Node>();
  const functions: Array<{ name: string; node: ts.FunctionLikeDeclaration }> = [];
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement)
      ? (ts.getModifiers(statement) ?? []).some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)
      : false;
    if (ts.isFunctionDeclaration(statement) && statement.name && exported)
      functions.push({ name: statement.name.text, node: statement });
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
        const init = declaration.initializer;
        if (exported && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)))
          functions.push({ name: declaration.name.text, node: init });
        else constants.set(declaration.name.text, init);
      }
    }
  }
  const problems: string[] = [];
  for (const { name, node } of functions) {
    const literals = literalsOf(node, constants);
    const personal = maps.flatMap((map) =>
      literals.has(map.table)
        ? Object.keys(map.personal)
            .filter((column) => column !== map.subjectColumn && literals.has(column))
            .map((column) => `${map.table}.${column}`)
        : [],
    );
    if (personal.length > 0 && !takesGrant(node) && !isLocator(node))
      problems.push(`${path.relative(ROOT, file)}: ${name} touches ${personal.join(', ')} without a Grant`);
  }
  return problems;
}

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

  it('every repository function that reads or writes a personal column of the data map takes a Grant', async () => {
    const files = (await sourceFiles(path.join(ROOT, 'src', 'modules'))).filter((file) =>
      file.endsWith('.repository.ts'),
    );
    expect(files.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const file of files)
      problems.push(
        ...findUngrantedRepositoryFunctions(file, parse(file, await readFile(file, 'utf8')), DATA_MAP),
      );
    expect(problems).toEqual([]);
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
      findUngrantedRepositoryFunctions(path.join(ROOT, 'src/modules/x/x.repository.ts'), source, DATA_MAP),
    ).toEqual([
      'src/modules/x/x.repository.ts: selectNames touches people.family_name without a Grant',
      'src/modules/x/x.repository.ts: deleteByName touches people.family_name without a Grant',
    ]);
  });
});
