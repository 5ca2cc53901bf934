import type { PromiseKey } from '../../kernel/policy/index.js';

/**
 * VX-7: the technical dossier is erased at once on written termination (tested end to end in
 * dossier.routes.test.ts), so the statement may promise it.
 */
export const ENFORCES: readonly PromiseKey[] = ['dossier_erasure'];

export { DOSSIER_CATEGORIES, dossierDataMap } from './datamap.js';
export {
  createItem,
  getDossier,
  searchAssets,
  assertDossierKept,
  dossierPurposes,
} from './dossier.service.js';
export type {
  DossierContext,
  Dossier,
  CreateAssetInput,
  CreateCredentialInput,
  CreateFactInput,
} from './dossier.service.js';
export { revealSecret, showTotpCode, STEP_UP_MAX_AGE_MS } from './reveal.service.js';
export type { RevealContext } from './reveal.service.js';
export { eraseDossier, handleContractTerminated, subscribeDossierErasure } from './erasure.service.js';
export type { DossierErasure } from './erasure.service.js';
export { registerDossierRoutes } from './dossier.routes.js';
export type { DossierTables } from './dossier.tables.js';
