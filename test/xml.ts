import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import SaxonJS from 'saxon-js';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';
import { sharedPath } from './shared.js';

/**
 * XML checks that need nothing outside `npm install`: libxml2 compiled to WebAssembly for the
 * official UBL 2.1 schemas, and SaxonJS over the precompiled official Peppol BIS 3.0 / EN 16931
 * Schematron rules in the shared test data.
 */

const XSD_DIR = sharedPath('ubl-2.1', 'xsd');
const COMMON_SCHEMAS: readonly XMLFileInfo[] = readdirSync(`${XSD_DIR}/common`).map((file) => ({
  fileName: `common/${file}`,
  contents: readFileSync(`${XSD_DIR}/common/${file}`, 'utf8'),
}));

export type UblSchema = 'UBL-Invoice-2.1.xsd' | 'UBL-CreditNote-2.1.xsd';

export interface SchemaCheck {
  valid: boolean;
  /** libxml2's messages, one per problem; empty when valid. */
  errors: string[];
}

export async function validateUbl(xml: string, schema: UblSchema): Promise<SchemaCheck> {
  const result = await validateXML({
    xml: { fileName: 'document.xml', contents: xml },
    // The maindoc schema imports `../common/…`, so it lives under maindoc/ in the in-memory file system.
    schema: { fileName: `maindoc/${schema}`, contents: readFileSync(`${XSD_DIR}/maindoc/${schema}`, 'utf8') },
    preload: COMMON_SCHEMAS,
    maxMemoryPages: 4096,
  });
  return { valid: result.valid, errors: result.errors.map((error) => error.message) };
}

/** A SEPA direct-debit collection file against the ISO 20022 pain.008.001.02 schema. */
export async function validatePain008(xml: string): Promise<SchemaCheck> {
  const result = await validateXML({
    xml: { fileName: 'pain008.xml', contents: xml },
    schema: {
      fileName: 'pain.008.001.02.xsd',
      contents: readFileSync(sharedPath('sepa', 'pain.008.001.02.xsd'), 'utf8'),
    },
    maxMemoryPages: 4096,
  });
  return { valid: result.valid, errors: result.errors.map((error) => error.message) };
}

export interface RuleFailure {
  id: string;
  flag: string;
  text: string;
}

const RULE_FILES = ['cen-en16931-ubl.sef.json.gz', 'peppol-en16931-ubl.sef.json.gz'] as const;
let stylesheets: unknown[] | undefined;

/** Runs the EN 16931 and Peppol BIS 3.0 Schematron rules; returns every failed assert. */
export async function checkPeppolRules(xml: string): Promise<RuleFailure[]> {
  stylesheets ??= RULE_FILES.map((file): unknown =>
    JSON.parse(gunzipSync(readFileSync(sharedPath('peppol', file))).toString('utf8')),
  );
  const failures: RuleFailure[] = [];
  for (const stylesheet of stylesheets) {
    const { principalResult } = await SaxonJS.transform(
      { stylesheetInternal: stylesheet, sourceText: xml, destination: 'document' },
      'async',
    );
    const asserts = SaxonJS.XPath.evaluate(
      '//svrl:failed-assert | //svrl:successful-report',
      principalResult,
      { namespaceContext: { svrl: 'http://purl.oclc.org/dsdl/svrl' }, resultForm: 'array' },
    ) as SvrlNode[];
    for (const node of asserts) {
      failures.push({
        id: node.getAttribute('id') ?? '?',
        flag: node.getAttribute('flag') ?? '?',
        text: (node.textContent ?? '').trim(),
      });
    }
  }
  return failures;
}

interface SvrlNode {
  getAttribute(name: string): string | null;
  textContent: string | null;
}
