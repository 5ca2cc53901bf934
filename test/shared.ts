import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

/**
 * The folder with test data made by others (real switch files, UBL schemas): `../shared` next to
 * the checkout here, `/work/shared` on CI machines where the clone lives elsewhere, or wherever
 * KLUIS_SHARED_DIR points.
 */
function locateSharedDir(): string {
  const candidates = [process.env.KLUIS_SHARED_DIR, path.resolve(ROOT, '../shared'), '/work/shared'];
  const found = candidates.find(
    (dir): dir is string => dir !== undefined && existsSync(path.join(dir, 'cdr-samples')),
  );
  if (!found) throw new Error('shared test data not found (../shared or /work/shared); set KLUIS_SHARED_DIR');
  return found;
}

export const SHARED_DIR = locateSharedDir();
export const sharedPath = (...parts: string[]): string => path.join(SHARED_DIR, ...parts);
