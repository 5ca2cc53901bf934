import { z } from 'zod';
import { PURPOSE_HEADER } from '../../http/purpose.js';

/** The purpose header of billing's staff routes, as the OpenAPI document shows it. */
export const purposeHeaders = z
  .object({ [PURPOSE_HEADER]: z.string().optional().describe("purpose key of the tenant's policy") })
  .passthrough();
