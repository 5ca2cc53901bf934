import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kluis-backup-out-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('kluis backup --out names a folder (attack S20-10)', () => {
  it('--out naming a file, or a path under a file, is refused as a bad option (exit 2), naming it; nothing is written', async () => {
    const file = path.join(dir, 'afile');
    await writeFile(file, 'kept\n');
    const onFile = await runCli(['backup', '--out', file], { KLUIS_DATA_DIR: path.join(dir, 'data') });
    expect(onFile.code, onFile.stderr).toBe(2);
    expect(onFile.stderr).toContain(`--out: ${file} is a file, not a folder`);
    expect(onFile.stderr).not.toContain('unexpected error');

    const underFile = await runCli(['backup', '--out', path.join(file, 'sub')], {
      KLUIS_DATA_DIR: path.join(dir, 'data'),
    });
    expect(underFile.code, underFile.stderr).toBe(2);
    expect(underFile.stderr).toContain(`--out: ${path.join(file, 'sub')} lies under a file, not a folder`);
    expect((await readdir(dir)).sort()).toEqual(['afile']);
  });
});
