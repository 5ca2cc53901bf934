import Bowser from 'bowser';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { BANNER_VERSION } from './banner.texts.js';
import { visitLogPurposes } from './cookie-policy.js';
import { countryOf, truncateAddress } from './geo.js';
import { CONSENT_ID, currentChoice, recordChoice, type Receipt } from './receipt.service.js';

export const visitInputSchema = z
  .strictObject({
    // The path only: a query string may carry anything (a search, an e-mail address in a link).
    page: z
      .string()
      .max(2000)
      .transform((page) => page.split(/[?#]/)[0] ?? '/'),
    referrerHost: z.string().max(253).optional(),
    consentId: z.string().regex(CONSENT_ID).optional(),
  })
  .meta({
    example: {
      page: '/internet/glasvezel',
      referrerHost: 'www.google.be',
      consentId: 'q3Xb8RkTn2VwYzL5mPa7Cw',
    },
  });

const DEVICE_TYPES = new Set(['desktop', 'mobile', 'tablet', 'tv', 'bot']);
const FAMILY = /[^A-Za-z0-9 ._()/-]/g;

/** Device type, operating system and browser family of a user agent (bowser), nothing finer. */
export function describeClient(userAgent: string | undefined): {
  deviceType: string;
  os: string;
  browser: string;
} {
  if (!userAgent?.trim()) return { deviceType: 'other', os: 'unknown', browser: 'unknown' };
  const parser = Bowser.getParser(userAgent.slice(0, 1000));
  const type = parser.getPlatformType(true);
  const clean = (value: string): string => value.replace(FAMILY, '').trim().slice(0, 40) || 'unknown';
  return {
    deviceType: DEVICE_TYPES.has(type) ? type : 'other',
    os: clean(parser.getOSName()),
    browser: clean(parser.getBrowserName()),
  };
}

/** A page path as stored: printable ASCII (other characters percent-encoded), at most 300 characters. */
function cleanPage(page: string): string {
  const path = page.startsWith('/') ? page : `/${page}`;
  const encoded = path.replace(/[^!-~]/g, (char) => encodeURIComponent(char));
  return encoded.slice(0, 300);
}

function cleanHost(host: string | undefined): string | null {
  if (host === undefined) return null;
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9.-]{1,253}$/.test(lower) ? lower : null;
}

export interface VisitOutcome {
  /** The choice that holds for the visitor's consent id, for the banner to follow a change made elsewhere. */
  consent: Receipt | undefined;
  recorded: boolean;
}

/**
 * Records one page view in the visit log (VK-3): device type, OS and browser family, page,
 * referrer host, time, and the address cut to its network before it is stored. The country is
 * looked up (offline) from the full address only when the visitor's choice holding now includes
 * analytical cookies; the full address is never stored. Nothing is recorded when the policy names
 * no visit-log purpose. A browser sending Global Privacy Control (`Sec-GPC: 1`) whose holding
 * acceptance was made without it withdraws that acceptance here too, whether or not the banner
 * script ran: the refusal is recorded first and the visit is not counted (decision 0860).
 */
export async function recordVisit(
  kernel: Kernel,
  tenantId: number,
  input: z.output<typeof visitInputSchema>,
  client: { address: string; userAgent: string | undefined; gpc: boolean },
): Promise<VisitOutcome> {
  const { policy } = await kernel.policies.current(tenantId);
  let consent = await currentChoice(kernel, tenantId, input.consentId);
  if (client.gpc && consent !== undefined && consent.categories.length > 0 && !consent.gpc) {
    // A refusal under a known id needs no key (decision 0410); the answer carries it to the banner.
    consent = await recordChoice(
      kernel,
      tenantId,
      {
        consentId: consent.consentId,
        categories: [],
        policyVersion: consent.policyVersion,
        bannerVersion: BANNER_VERSION,
        language: consent.language,
        source: 'gpc',
        gpc: true,
      },
      { gpcHeader: true },
    );
  }
  if (visitLogPurposes(policy).administration === undefined) return { consent, recorded: false };
  const analytics = consent?.categories.includes('analytical') === true;
  const country = analytics ? await countryOf(client.address) : undefined;
  const described = describeClient(client.userAgent);
  await kernel.plain(tenantId, (tx) =>
    tx
      .insertInto('website_visits')
      .values({
        tenant_id: tenantId,
        visited_at: kernel.clock.now(),
        page: cleanPage(input.page),
        referrer_host: cleanHost(input.referrerHost),
        device_type: described.deviceType,
        os: described.os,
        browser: described.browser,
        network: truncateAddress(client.address) ?? null,
        country: country ?? null,
        analytics_consent: analytics,
      })
      .execute(),
  );
  return { consent, recorded: true };
}

export interface VisitStatistics {
  from: string;
  to: string;
  /** Visits per page and day, only of visitors who consented to analytical cookies (VK-3). */
  days: Array<{ day: string; page: string; visits: number }>;
  countries: Array<{ country: string; visits: number }>;
}

/** The statistics of the visit log over [from, to] (whole UTC days), from consented visits only. */
export async function visitStatistics(
  kernel: Kernel,
  tenantId: number,
  range: { from: string; to: string },
): Promise<VisitStatistics> {
  const { policy } = await kernel.policies.current(tenantId);
  if (visitLogPurposes(policy).statistics === undefined)
    throw new AppError('not_found', 'policy keeps no visit statistics', {
      publicMessage: 'this provider’s policy keeps no website statistics',
    });
  const from = new Date(`${range.from}T00:00:00Z`);
  const to = sql<Date>`${range.to}::date + 1`;
  return kernel.plain(tenantId, async (tx) => {
    const days = await tx
      .selectFrom('website_visits')
      .select([
        sql<string>`to_char(visited_at at time zone 'UTC', 'YYYY-MM-DD')`.as('day'),
        'page',
        sql<string>`count(*)`.as('visits'),
      ])
      .where('analytics_consent', '=', true)
      .where('visited_at', '>=', from)
      .where('visited_at', '<', to)
      .groupBy([sql`1`, 'page'])
      .orderBy(sql`1`)
      .orderBy('page')
      .limit(10_000)
      .execute();
    const countries = await tx
      .selectFrom('website_visits')
      .select(['country', sql<string>`count(*)`.as('visits')])
      .where('analytics_consent', '=', true)
      .where('country', 'is not', null)
      .where('visited_at', '>=', from)
      .where('visited_at', '<', to)
      .groupBy('country')
      .orderBy('country')
      .execute();
    return {
      ...range,
      days: days.map((row) => ({ day: row.day, page: row.page, visits: Number(row.visits) })),
      countries: countries.map((row) => ({ country: row.country ?? '', visits: Number(row.visits) })),
    };
  });
}
