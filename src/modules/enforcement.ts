import type { EnforcedPromises, PromiseKey } from '../kernel/policy/index.js';
import { ENFORCES as COOKIES } from './cookies/index.js';
import { ENFORCES as CONSENT } from './consent/index.js';
import { ENFORCES as DOSSIER } from './dossier/index.js';
import { ENFORCES as RECIPIENTS } from './recipients/index.js';
import { ENFORCES as RETENTION } from './retention/index.js';

/**
 * The statement promises that a module of this installation keeps, from each module's
 * `ENFORCES`. The generated statement makes these and no other (kernel/policy/promises.ts); add
 * a module here only when its tests show the promise kept end to end.
 */
const ENFORCED_BY_MODULE: Readonly<Record<string, readonly PromiseKey[]>> = {
  cookies: COOKIES,
  consent: CONSENT,
  dossier: DOSSIER,
  recipients: RECIPIENTS,
  retention: RETENTION,
};

export const ENFORCED_PROMISES: EnforcedPromises = new Set(Object.values(ENFORCED_BY_MODULE).flat());
