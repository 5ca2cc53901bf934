import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';

export interface PortalTheme {
  primary: string;
  accent: string;
  /** The tenant's logo, when it uploaded one (decision 0291): its content hash and pixel size. */
  logo?: { version: string; width: number; height: number };
}

/** Neutral colours for a tenant that set none (both readable on white and under white text). */
export const DEFAULT_THEME: PortalTheme = { primary: '#1f4e79', accent: '#9e1b32' };

const HEX = /^#[0-9a-f]{6}$/;

export async function readPortalTheme(kernel: Kernel, tenantId: number): Promise<PortalTheme> {
  return kernel.plain(tenantId, (tx) => themeOf(tx, tenantId));
}

/** Saves the colours and answers the theme as stored, read in the same transaction (decision 0725). */
export async function savePortalTheme(
  kernel: Kernel,
  tenantId: number,
  theme: PortalTheme,
): Promise<PortalTheme> {
  return kernel.plain(tenantId, async (tx) => {
    await tx
      .insertInto('portal_themes')
      .values({
        tenant_id: tenantId,
        primary_colour: theme.primary,
        accent_colour: theme.accent,
        updated_at: kernel.clock.now(),
      })
      .onConflict((conflict) =>
        conflict.column('tenant_id').doUpdateSet({
          primary_colour: theme.primary,
          accent_colour: theme.accent,
          updated_at: kernel.clock.now(),
        }),
      )
      .execute();
    return themeOf(tx, tenantId);
  });
}

async function themeOf(tx: Tx, tenantId: number): Promise<PortalTheme> {
  const row = await tx
    .selectFrom('portal_themes')
    .select(['primary_colour', 'accent_colour'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  const logo = await tx
    .selectFrom('portal_logos')
    .select(['sha256', 'width', 'height'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  const colours = row ? { primary: row.primary_colour, accent: row.accent_colour } : DEFAULT_THEME;
  return logo
    ? { ...colours, logo: { version: logo.sha256.slice(0, 12), width: logo.width, height: logo.height } }
    : colours;
}

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const channel = (offset: number): number => {
    const value = parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The lightest background text is drawn on (the table of contents' grey). */
const LIGHTEST_BACKGROUND = '#f2f4f7';

/** Darkens a colour in steps until white reads on it, and it reads on light grey, at 4.5:1 (WCAG AA). */
function darkEnough(hex: string): string {
  let [r, g, b] = [1, 3, 5].map((offset) => parseInt(hex.slice(offset, offset + 2), 16)) as [
    number,
    number,
    number,
  ];
  let colour = hex;
  for (let step = 0; step < 30 && contrast(colour, LIGHTEST_BACKGROUND) < 4.6; step += 1) {
    [r, g, b] = [r, g, b].map((value) => Math.floor(value * 0.9)) as [number, number, number];
    colour = `#${[r, g, b].map((value) => value.toString(16).padStart(2, '0')).join('')}`;
  }
  return colour;
}

/**
 * The CSS custom properties of a theme; every value is a checked #rrggbb. The tenant's own colour
 * is shown as it is in a band at the top; text on it or in it (header, links, buttons) uses the
 * same hue darkened until it reads at 4.5:1, so a light brand colour cannot make a page unreadable.
 */
export function themeProperties(theme: PortalTheme): string {
  const primary = HEX.test(theme.primary) ? theme.primary : DEFAULT_THEME.primary;
  const accent = HEX.test(theme.accent) ? theme.accent : DEFAULT_THEME.accent;
  const onColour = (colour: string): string => (contrast(colour, '#ffffff') >= 4.5 ? '#ffffff' : '#111111');
  const strong = darkEnough(primary);
  return [
    `--brand:${primary}`,
    `--brand-strong:${strong}`,
    `--on-brand:${onColour(strong)}`,
    `--link:${strong}`,
    `--accent:${accent}`,
    `--on-accent:${onColour(accent)}`,
  ].join(';');
}
