import { ALL_PROMISES } from './promises.js';
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from './policy.schema.js';
import { buildStatement, generateStatement } from './statement.generator.js';
import { STATEMENT_TEXTS } from './statement.texts.js';
import { loadSeedPolicy } from './statement.test-helpers.js';

const policies = { voiceking: loadSeedPolicy('voiceking'), voxtra: loadSeedPolicy('voxtra') };

describe('statement generator', () => {
  for (const [name, policy] of Object.entries(policies)) {
    for (const lang of LANGUAGES) {
      it(`${name} (${lang}): every section is present, in the language's own words, with no template holes`, () => {
        const md = generateStatement(policy, { lang, format: 'md', enforced: ALL_PROMISES });
        const t = STATEMENT_TEXTS[lang];
        for (const heading of [
          t.headings.controller,
          t.headings.data,
          t.headings.purposes,
          t.headings.security,
          t.headings.retention,
          t.headings.sharing,
          t.headings.cookies,
          t.headings.minors,
          t.headings.rights,
          t.headings.complaints,
          t.headings.changes,
        ]) {
          expect(md).toContain(`## ${heading}`);
        }
        expect(md).not.toMatch(/undefined|\[object Object\]|NaN/);
        // Facts come from the policy in the requested language.
        for (const purpose of Object.values(policy.purposes))
          expect(md.toLowerCase()).toContain(purpose.label[lang].toLowerCase());
        expect(md).toContain(policy.supervisoryAuthority.name[lang]);
        expect(md).toContain(policy.controller.email);
      });
    }
  }

  it('French and English statements use their own wording for the same facts', () => {
    const policy = policies.voiceking;
    const fr = generateStatement(policy, { lang: 'fr', enforced: ALL_PROMISES });
    const en = generateStatement(policy, { lang: 'en', enforced: ALL_PROMISES });
    expect(fr).toContain('# Déclaration de confidentialité de VoiceKing CVBA');
    expect(fr).toContain("Numéro d'entreprise: BE0653.989.638");
    expect(fr).toContain('Nous donnons suite à votre demande dans les 30 jours de sa réception.');
    expect(fr).toContain(
      "Nous ne fournissons aucune donnée à caractère personnel à des parties établies en dehors de l'Union européenne (UE).",
    );
    expect(fr).toContain('Version 2026.2, en vigueur depuis le 1 décembre 2026.');
    expect(en).toContain('# Privacy statement of VoiceKing CVBA');
    expect(en).toContain('We act on your request within 30 days of receiving it.');
    expect(en).toContain(
      'until the invoice that billed them can no longer be contested: 12 months after its due date (longer while it is disputed); never before they are invoiced',
    );
    expect(en).toContain('kluis_stats (analytical cookie from VoiceKing CVBA, kept 13 months)');
    expect(en).toContain('Version 2026.2, in force since 1 December 2026.');
  });

  it('HTML is a complete page in the requested language with every text escaped', () => {
    const policy = policies.voxtra;
    const html = generateStatement(policy, { lang: 'fr', format: 'html', enforced: ALL_PROMISES });
    expect(html).toMatch(/^<!doctype html>\n<html lang="fr">/);
    expect(html).toContain('<title>Déclaration de confidentialité de Voxtra bvba</title>');
    expect(html).toContain('<h2>Qui est responsable de vos données ?</h2>');
    expect(html).toContain('<li>Numéro d&#39;entreprise: BE0649.503.981</li>');
    expect(html).not.toMatch(
      /<(?!\/?(html|head|meta|title|body|main|h[1-3]|p|ul|li|table|thead|tbody|tr|th|td)\b)[a-z]/i,
    );

    // A label with markup is shown as text, never as markup.
    const hostile = structuredClone(policy);
    const purpose = hostile.purposes.quotes;
    if (purpose === undefined) throw new Error('fixture');
    purpose.label.fr = '<script>alert(1)</script> & co';
    const escaped = generateStatement(hostile, { lang: 'fr', format: 'html', enforced: ALL_PROMISES });
    expect(escaped).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(escaped).not.toContain('<script>');
    const md = generateStatement(hostile, { lang: 'fr', format: 'md', enforced: ALL_PROMISES });
    expect(md).toContain('\\<script\\>alert(1)\\</script\\>');
  });

  it('the document model names the language and title', () => {
    const doc = buildStatement(policies.voiceking, 'en', ALL_PROMISES);
    expect(doc.lang).toBe('en');
    expect(doc.title).toBe('Privacy statement of VoiceKing CVBA');
    expect(doc.blocks[0]).toEqual({ kind: 'heading', level: 1, text: 'Privacy statement of VoiceKing CVBA' });
  });

  it('a policy that marks no purpose to read a restricted person promises the plain restriction, in every language; one that marks some names them (decision 0902)', () => {
    const unmarked = {
      ...policies.voxtra,
      purposes: Object.fromEntries(
        Object.entries(policies.voxtra.purposes).map(([key, purpose]) => [
          key,
          { ...purpose, readWhileRestricted: false },
        ]),
      ),
    };
    for (const lang of LANGUAGES) {
      const plain = generateStatement(unmarked, { lang, format: 'md', enforced: ALL_PROMISES });
      expect(plain).toContain(`- ${STATEMENT_TEXTS[lang].rights.items.restriction}\n`);
      const marked = generateStatement(policies.voxtra, { lang, format: 'md', enforced: ALL_PROMISES });
      expect(marked).not.toContain(`- ${STATEMENT_TEXTS[lang].rights.items.restriction}\n`);
      expect(marked).toContain(policies.voxtra.purposes.accounting?.label[lang] ?? 'missing');
    }
  });
});
