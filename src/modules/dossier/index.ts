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
export {
  eraseDossier,
  eraseDossierWithin,
  handleContractTerminated,
  subscribeDossierErasure,
} from './erasure.service.js';
export type { DossierErasure } from './erasure.service.js';
export { registerDossierRoutes } from './dossier.routes.js';
export type { DossierRouteOptions, PortalAuthenticator, ShareLinkPage } from './dossier.routes.js';
// For the share link's page in the privacy portal (decision 0472): the same doors as the JSON routes.
export { lookAtShareLink, openShareLinkAtDoor } from './share-door.js';
// For the privacy portal's pages (issue 19): the customer's own dossier, masked, and their own reveal.
export {
  getOwnDossier,
  revealOwnSecret,
  ownRevealInputSchema,
  downloadOwnAttachment,
} from './own-dossier.service.js';
export type { OwnDossierSession } from './own-dossier.service.js';
export { presentDossier, dossierSchema, MASK } from './dossier.presenter.js';
/** Sends an attachment as a download (never inline, never cached, never sniffed). */
export { sendFile as sendDossierFile } from './dossier.routes.js';
export type { DossierTables } from './dossier.tables.js';
