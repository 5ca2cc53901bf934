import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from './policy.loader.js';
import { canonicalJson, policyVersionHash } from './policy.version.js';

const file = fileURLToPath(new URL('../../../policies/voxtra.yaml', import.meta.url));
const source = readFileSync(file, 'utf8');

describe('policy version hash', () => {
  it('is stable across comments, formatting and key order', () => {
    const a = parsePolicy(source, file);
    const reordered = parseDocument(source);
    reordered.commentBefore = 'a different comment';
    const rights = reordered.get('rights');
    reordered.delete('rights');
    reordered.set('rights', rights);
    const b = parsePolicy(reordered.toString({ lineWidth: 0, flowCollectionPadding: false }), file);
    expect(policyVersionHash(b)).toBe(policyVersionHash(a));
    expect(policyVersionHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes when a fact changes', () => {
    const a = parsePolicy(source, file);
    const b = parsePolicy(source.replace('answerDeadlineDays: 30', 'answerDeadlineDays: 28'), file);
    expect(policyVersionHash(b)).not.toBe(policyVersionHash(a));
  });

  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: 'x' }] })).toBe('{"a":[{"c":"x"}],"b":1}');
  });
});
