import { z } from 'zod';

/**
 * VAT categories a product can be sold under (UNCL5305, as Peppol BIS 3.0 uses them): standard
 * rate, zero rate, exempt, reverse charge, intra-community supply, export outside the EU.
 */
export const VAT_CATEGORIES = ['S', 'Z', 'E', 'AE', 'K', 'G'] as const;
export type VatCategory = (typeof VAT_CATEGORIES)[number];

/** Categories that need an exemption reason (EN 16931 BR-E-10, BR-AE-10, BR-IC-10, BR-G-10). */
export const EXEMPT_CATEGORIES: ReadonlySet<VatCategory> = new Set(['E', 'AE', 'K', 'G']);

/** The VATEX code a category implies when none is given (E has none: the legal ground varies). */
export const DEFAULT_EXEMPTION_CODE: Partial<Record<VatCategory, string>> = {
  AE: 'VATEX-EU-AE',
  K: 'VATEX-EU-IC',
  G: 'VATEX-EU-G',
};

/** The printed reason of the common VATEX codes (BT-120), in the invoice's language (English). */
export const EXEMPTION_TEXTS: Readonly<Record<string, string>> = {
  'VATEX-EU-AE': 'Reverse charge',
  'VATEX-EU-IC': 'Intra-community supply',
  'VATEX-EU-G': 'Export outside the EU',
};

/** What a product or line is taxed under. */
export interface VatTreatment {
  category: VatCategory;
  exemptionCode: string | null;
  exemptionReason: string | null;
}

/** Documents and products stored before categories existed: S above 0 %, Z at 0 %. */
export function categoryOfRate(rateBp: number): VatCategory {
  return rateBp === 0 ? 'Z' : 'S';
}

export const vatExemptionCodeSchema = z
  .string()
  .regex(/^VATEX-[A-Z]{2}-[A-Z0-9-]{1,20}$/, 'a VATEX code, e.g. VATEX-EU-AE or VATEX-EU-132-1A');

/**
 * A product's VAT treatment from its rate and the category given (default S, or Z at 0 %): S has
 * a rate above 0; every other category 0 %; E, AE, K and G carry a reason (the VATEX code, the
 * category's own by default, and its text). A message for the first rule broken, else the treatment.
 */
export function resolveVatTreatment(input: {
  rateBp: number;
  category?: VatCategory | undefined;
  exemptionCode?: string | null | undefined;
  exemptionReason?: string | null | undefined;
}): VatTreatment | string {
  const category = input.category ?? categoryOfRate(input.rateBp);
  const code = input.exemptionCode ?? null;
  const reason = input.exemptionReason ?? null;
  if (category === 'S') {
    if (input.rateBp === 0) return 'vatCategory: S (standard) needs a rate above 0; use Z for a zero rate';
  } else if (input.rateBp !== 0) {
    return `vatRatePercent: category ${category} is invoiced at 0 %`;
  }
  if (!EXEMPT_CATEGORIES.has(category)) {
    if (code !== null || reason !== null)
      return `vatExemptionCode: category ${category} takes no exemption reason`;
    return { category, exemptionCode: null, exemptionReason: null };
  }
  const exemptionCode = code ?? DEFAULT_EXEMPTION_CODE[category] ?? null;
  const exemptionReason = reason ?? (exemptionCode ? (EXEMPTION_TEXTS[exemptionCode] ?? null) : null);
  if (exemptionCode === null && exemptionReason === null) {
    return `vatExemptionCode: category ${category} needs an exemption reason (a VATEX code or a text)`;
  }
  return { category, exemptionCode, exemptionReason };
}
