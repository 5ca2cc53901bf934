import { idempotencyDataMap } from '../http/idempotency.datamap.js';
import { kernelDataMap } from '../kernel/datamap/kernel.datamap.js';
import type { TableDataMap } from '../kernel/datamap/datamap.js';
import { billingDataMap } from './billing/datamap.js';
import { consentDataMap } from './consent/datamap.js';
import { contractsDataMap } from './contracts/datamap.js';
import { cookiesDataMap } from './cookies/datamap.js';
import { dossierDataMap } from './dossier/datamap.js';
import { partiesDataMap } from './parties/datamap.js';
import { recipientsDataMap } from './recipients/datamap.js';
import { portalDataMap } from './portal/datamap.js';
import { requestsDataMap } from './requests/datamap.js';
import { retentionDataMap } from './retention/datamap.js';
import { staffDataMap } from './staff/datamap.js';
import { telephonyDataMap } from './telephony/datamap.js';
import { throttleDataMap } from './throttle/datamap.js';

/**
 * Every table's data map, in the order erasure walks them (children before parents).
 * A test compares this list with the live catalogue: a column nobody classified fails it.
 */
export const DATA_MAP: readonly TableDataMap[] = [
  ...recipientsDataMap,
  ...billingDataMap,
  ...dossierDataMap,
  ...requestsDataMap,
  ...consentDataMap,
  ...contractsDataMap,
  ...telephonyDataMap,
  ...retentionDataMap,
  ...partiesDataMap,
  ...staffDataMap,
  ...throttleDataMap,
  ...cookiesDataMap,
  ...portalDataMap,
  ...idempotencyDataMap,
  ...kernelDataMap,
];
