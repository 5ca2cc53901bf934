export { registerPortalRoutes, statementPage, type PortalDeps } from './portal.routes.js';
/** The share link's page, for the dossier's GET route (decision 0472). */
export { dossierSharePage } from './share.pages.js';
/** The portal's page frame, for the other public pages (unsubscribe, cookie settings). */
export { renderPortalPage, textsOf, type PortalFrame, type PageOptions } from './layout.js';
export { loadFrame, formToken, assertFormToken, parseFormBody, type FormBody } from './frame.js';
export { html, trusted, Html, type HtmlValue } from './html.js';
export { readPortalTheme, savePortalTheme, type PortalTheme } from './theme.js';
export { portalDataMap } from './datamap.js';
export type { PortalTables } from './portal.tables.js';
