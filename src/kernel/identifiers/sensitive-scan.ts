/**
 * Scans free text (notes, descriptions) for data the privacy statement says we do not keep
 * without explicit consent (VK-16): national register numbers, bank accounts, card numbers,
 * and words that reveal special-category data (GDPR art. 9).
 *
 * Findings carry the kind and the position only. Callers report the kind ("a national
 * register number was found") and must never echo the matched text: doing so would copy
 * the very data we refuse into error messages and logs.
 */
import { findIbans } from './iban.js';
import { findNationalNumbers } from './national-number.js';
import { findPaymentCardNumbers } from './payment-card.js';

export type SensitiveKind = 'national_register_number' | 'iban' | 'payment_card' | 'special_category';

export type SpecialCategory =
  | 'health'
  | 'religion'
  | 'political_opinion'
  | 'trade_union'
  | 'sexual_orientation'
  | 'ethnic_origin'
  | 'biometric_genetic';

export interface Finding {
  kind: SensitiveKind;
  start: number;
  end: number;
  /** Set for `special_category` findings: which art. 9 category the keyword points to. */
  specialCategory?: SpecialCategory;
}

/*
 * Keyword detection is a heuristic meant to flag a note for a human, not to prove that it
 * holds special-category data. The list is deliberately modest (Dutch, French, English) and
 * every entry matches whole words only, after folding accents, so "ras" in "terras" or
 * "gay" in "Gaylord" do not fire. Words with an everyday second meaning ("race", "groen",
 * "ziek" as in "ziekenhuisstraat") are left out on purpose to keep false positives low.
 * Entries are regular-expression fragments over lower-case, accent-free text.
 */
const SPECIAL_CATEGORY_KEYWORDS: Readonly<Record<SpecialCategory, readonly string[]>> = {
  health: [
    'diagnose',
    'diagnosis',
    'diagnostic',
    'kanker',
    'cancer',
    'diabetes',
    'diabete',
    'diabetique',
    'diabetic',
    'depressie',
    'depression',
    'burn-?out',
    'chemo(?:therapie|therapy)?',
    'hiv',
    'epilepsie',
    'epilepsy',
    'zwanger(?:schap)?',
    'pregnant',
    'pregnancy',
    'enceinte',
    'grossesse',
    'handicap',
    'disability',
    'invalidite',
    'psychiater',
    'psychiatrist',
    'psychiatre',
    'medicatie',
    'medication',
    'ziekteverlof',
    'sick leave',
    'arret maladie',
    'alzheimer',
    'dementie',
    'dementia',
    'demence',
    'autisme',
    'autism',
  ],
  religion: [
    'moslim',
    'muslim',
    'musulman(?:e)?',
    'islamitisch',
    'katholiek',
    'catholic',
    'catholique',
    'protestant(?:s|e)?',
    'joods',
    'jewish',
    'juif',
    'juive',
    'boeddhist',
    'buddhist',
    'bouddhiste',
    'hindoe',
    'hindu',
    'hindou',
    'religie',
    'religion',
    'religious',
    'religieux',
    'religieuse',
    'geloofsovertuiging',
    'godsdienst',
    'atheist',
    'atheiste',
  ],
  political_opinion: [
    'politieke (?:voorkeur|overtuiging|partij)',
    'political (?:opinion|opinions|party|affiliation)',
    'opinion politique',
    'opinions politiques',
    'parti politique',
    'partijlid',
    'party member',
  ],
  trade_union: [
    'vakbond',
    'vakbondslid',
    'vakbondsafgevaardigde',
    'syndicat',
    'syndique(?:e)?',
    'delegue syndical',
    'trade union',
    'union member',
    'abvv',
    'acv',
    'aclvb',
    'fgtb',
    'cgslb',
  ],
  sexual_orientation: [
    'homoseksueel',
    'homosexual',
    'homosexuel(?:le)?',
    'lesbisch',
    'lesbian',
    'lesbienne',
    'biseksueel',
    'bisexual',
    'bisexuel(?:le)?',
    'transgender',
    'seksuele geaardheid',
    'sexual orientation',
    'orientation sexuelle',
    'gay',
  ],
  ethnic_origin: [
    'etnische afkomst',
    'etniciteit',
    'ethnic origin',
    'ethnicity',
    'origine ethnique',
    'ethnie',
    'raciale afkomst',
    'racial origin',
    'origine raciale',
  ],
  biometric_genetic: [
    'vingerafdruk(?:ken)?',
    'fingerprints?',
    'empreintes? digitales?',
    'biometri(?:sch|sche|c|e|que)',
    'gezichtsherkenning',
    'facial recognition',
    'reconnaissance faciale',
    'dna(?:-test)?',
    'adn',
    'genetisch(?:e)?',
    'genetic',
    'genetique',
    'irisscan',
  ],
};

// Letters and digits of any script count as word characters; \b would treat "é" as a boundary.
const KEYWORD_PATTERNS: ReadonlyArray<{ category: SpecialCategory; pattern: RegExp }> = Object.entries(
  SPECIAL_CATEGORY_KEYWORDS,
).map(([category, words]) => ({
  category: category as SpecialCategory,
  pattern: new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.join('|')})(?![\\p{L}\\p{N}])`, 'gu'),
}));

/** Finds sensitive identifiers and special-category keywords; findings are ordered by position. */
export function scanForSensitiveData(text: string): Finding[] {
  const view = identifierView(text);
  const inOriginal = (match: { start: number; end: number }) => ({
    start: view.origin[match.start] ?? match.start,
    end: (view.origin[match.end - 1] ?? match.end - 1) + 1,
  });
  const findings: Finding[] = [
    ...findNationalNumbers(view.text).map((m) => ({
      kind: 'national_register_number' as const,
      ...inOriginal(m),
    })),
    ...findIbans(view.text).map((m) => ({ kind: 'iban' as const, ...inOriginal(m) })),
    ...findPaymentCardNumbers(view.text).map((m) => ({ kind: 'payment_card' as const, ...inOriginal(m) })),
    ...findSpecialCategoryKeywords(text),
  ];
  return findings.sort((a, b) => a.start - b.start || a.end - b.end);
}

/**
 * The text as the identifier finders read it: full-width and other compatibility digits and
 * letters as ASCII (NFKC), invisible format characters (a zero-width space from a paste) left
 * out, and slashes, dashes and odd spaces (not line breaks) as plain spaces, so "85/07/30-033/28" and
 * "BE71-0961-…" are read like their spaced forms. `origin[i]` is the position in the original
 * text of character i, so findings point into what was typed.
 */
function identifierView(text: string): { text: string; origin: number[] } {
  let view = '';
  const origin: number[] = [];
  let position = 0;
  for (const unit of text) {
    const at = position;
    position += unit.length;
    if (/\p{Cf}/u.test(unit)) continue;
    const compatible = unit.normalize('NFKC');
    const plain = compatible.length === 1 ? compatible : unit;
    const read = /^[\t \u00a0\u2000-\u200a\u202f\u205f\u3000/\\_\u2010-\u2015\u2212-]$/u.test(plain)
      ? ' '
      : plain;
    for (let index = 0; index < read.length; index += 1) origin.push(at);
    view += read;
  }
  return { text: view, origin };
}

/** The distinct kinds found, for an error message that names what was found without echoing it. */
export function listSensitiveKinds(findings: readonly Finding[]): SensitiveKind[] {
  return [...new Set(findings.map((finding) => finding.kind))];
}

function findSpecialCategoryKeywords(text: string): Finding[] {
  const folded = foldForKeywords(text);
  const findings: Finding[] = [];
  for (const { category, pattern } of KEYWORD_PATTERNS) {
    for (const match of folded.matchAll(pattern)) {
      findings.push({
        kind: 'special_category',
        start: match.index,
        end: match.index + match[0].length,
        specialCategory: category,
      });
    }
  }
  return findings;
}

// Lower-cases and strips accents one character at a time, keeping any character whose fold
// would change its length, so positions in the folded text are positions in the original.
// Text typed in decomposed form (e + combining accent) is therefore not folded: rare in practice.
function foldForKeywords(text: string): string {
  let folded = '';
  for (const unit of text) {
    const lower = unit.toLowerCase();
    const base = lower.normalize('NFD').replace(/\p{M}/gu, '');
    folded += base.length === unit.length ? base : unit;
  }
  return folded;
}
