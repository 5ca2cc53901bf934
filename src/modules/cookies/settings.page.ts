import type { Language, Policy } from '../../kernel/policy/index.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { escapeHtml } from '../../platform/html.js';
import { BANNER_TEXTS } from './banner.texts.js';
import { askedCategories, cookiesOf } from './cookie-policy.js';
import type { Receipt } from './receipt.service.js';

export interface SettingsPageInput {
  policy: Policy;
  lang: Language;
  tenantBase: string;
  consentId: string | undefined;
  receipts: readonly Receipt[];
  holding: Receipt | undefined;
  gpc: boolean;
  saved: boolean;
}

/**
 * The cookie-settings page on Kluis's own site (VK-20): what the choice is now, a form to change it
 * that works without JavaScript, every cookie with provider, lifetime and purpose, and the earlier
 * choices of the consent id. Server-rendered, no script (the CSP of Kluis's pages allows none inline).
 */
export function renderSettingsPage(input: SettingsPageInput): string {
  const { policy, lang } = input;
  const t = BANNER_TEXTS[lang];
  const e = escapeHtml;
  const granted = input.holding?.categories ?? [];
  const label = (category: keyof typeof t.categories): string => t.categories[category].label;
  const current = input.holding
    ? granted.length > 0
      ? t.current(granted.map((category) => label(category)).join(', '))
      : t.none
    : input.consentId
      ? t.noChoice
      : '';
  const checkbox = (category: 'analytical' | 'tracking'): string =>
    `<div class="kluis-cc-cat"><input type="checkbox" id="c-${category}" name="categories" value="${category}"${
      granted.includes(category) ? ' checked' : ''
    } aria-describedby="c-${category}-d"><label for="c-${category}">${e(label(category))}</label>` +
    `<p id="c-${category}-d">${e(t.categories[category].description)}</p></div>`;
  const tables = (['functional', 'analytical', 'tracking'] as const)
    .map((category) => {
      const rows = cookiesOf(policy, category)
        .map(
          (cookie) =>
            `<tr><th scope="row">${e(cookie.name)}</th><td>${e(cookie.provider)}</td><td>${e(
              STATEMENT_TEXTS[lang].cookies.lifetime(cookie.lifetime),
            )}</td><td>${e(cookie.purpose[lang])}</td></tr>`,
        )
        .join('');
      if (rows === '') return '';
      return (
        `<table><caption>${e(label(category))}</caption><thead><tr><th scope="col">${e(t.columns.name)}</th>` +
        `<th scope="col">${e(t.columns.provider)}</th><th scope="col">${e(t.columns.lifetime)}</th>` +
        `<th scope="col">${e(t.columns.purpose)}</th></tr></thead><tbody>${rows}</tbody></table>`
      );
    })
    .join('');
  const history =
    input.receipts.length === 0
      ? ''
      : `<h2>${e(t.history)}</h2><table><thead><tr><th scope="col">${e(t.given)}</th><th scope="col">${e(
          t.choose,
        )}</th><th scope="col">${e(t.policyVersion)}</th><th scope="col">${e(t.sourceColumn)}</th></tr></thead><tbody>${input.receipts
          .map(
            (receipt) =>
              `<tr><td>${e(receipt.givenAt.toISOString().replace('T', ' ').slice(0, 16))} UTC</td><td>${e(
                receipt.categories.length === 0
                  ? label('functional')
                  : [label('functional'), ...receipt.categories.map((category) => label(category))].join(
                      ', ',
                    ),
              )}</td><td>${e(receipt.policyVersion)}</td><td>${e(t.source[receipt.source])}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const website = policy.controller.website;
  const websiteUrl =
    website === undefined ? undefined : /^https?:\/\//.test(website) ? website : `https://${website}`;
  const languages = policy.statement.languages
    .map((other) =>
      other === lang
        ? `<span aria-current="true">${other.toUpperCase()}</span>`
        : `<a href="?lang=${other}${input.consentId ? `&amp;consent=${e(input.consentId)}` : ''}" lang="${other}" hreflang="${other}">${other.toUpperCase()}</a>`,
    )
    .join(' ');
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(t.settingsTitle)} – ${e(policy.controller.legalName)}</title>
<link rel="stylesheet" href="${e(input.tenantBase)}/consent.css">
<style>body{margin:0 auto;max-width:48rem;padding:1rem;font:16px/1.5 system-ui,sans-serif;color:#1a1a1a}main .kluis-cc{position:static;box-shadow:none;max-height:none}nav{text-align:right}</style>
</head>
<body>
<nav aria-label="language">${languages}</nav>
<main>
<div class="kluis-cc">
<h1>${e(t.settingsTitle)}</h1>
<p>${e(t.intro)}</p>
${input.saved ? `<p role="status"><strong>${e(t.saved)}</strong></p>` : ''}
${input.gpc ? `<p class="kluis-cc-gpc">${e(t.gpc)}</p>` : ''}
${current ? `<p>${e(current)}</p>` : ''}
<form method="post" action="${e(input.tenantBase)}/cookies">
<input type="hidden" name="lang" value="${lang}">
${input.consentId ? `<input type="hidden" name="consent" value="${e(input.consentId)}">` : ''}
<fieldset><legend>${e(t.choose)}</legend>
<div class="kluis-cc-cat"><input type="checkbox" id="c-functional" checked disabled aria-describedby="c-functional-d"><label for="c-functional">${e(
    `${label('functional')} (${t.alwaysOn})`,
  )}</label><p id="c-functional-d">${e(t.categories.functional.description)}</p></div>
${askedCategories(policy).map(checkbox).join('\n')}
</fieldset>
<div class="kluis-cc-actions">
<button class="kluis-cc-btn" type="submit" name="action" value="refuse">${e(t.refuse)}</button>
<button class="kluis-cc-btn" type="submit" name="action" value="accept">${e(t.accept)}</button>
<button class="kluis-cc-btn" type="submit" name="action" value="save" data-kluis="save">${e(t.save)}</button>
</div>
</form>
${input.consentId ? `<p class="kluis-cc-id">${e(t.consentId)}: <code>${e(input.consentId)}</code></p>` : ''}
<h2>${e(t.details)}</h2>
${tables}
${history}
<p><a href="${e(input.tenantBase)}/privacy?lang=${lang}">${e(t.statement)}</a>${
    websiteUrl ? ` · <a href="${e(websiteUrl)}">${e(t.back)}</a>` : ''
  }</p>
</div>
</main>
</body>
</html>
`;
}
