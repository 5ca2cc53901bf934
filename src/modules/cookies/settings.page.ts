import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { html, renderPortalPage, type Html, type PortalFrame } from '../portal/index.js';
import { BANNER_TEXTS } from './banner.texts.js';
import { askedCategories, cookiesOf } from './cookie-policy.js';
import type { Receipt } from './receipt.service.js';

export interface SettingsPageInput {
  /** The privacy portal's frame: tenant, policy, language, colours. */
  frame: PortalFrame;
  /** Absolute base of the tenant's routes (the form posts there). */
  tenantBase: string;
  consentId: string | undefined;
  receipts: readonly Receipt[];
  holding: Receipt | undefined;
  gpc: boolean;
  saved: boolean;
  /** The portal's form token (its SameSite=Strict cookie's value): a post without it is refused. */
  csrf: string;
  /**
   * Another browser's consent id (opened from a link): shown, and it may be refused, but not
   * changed here without its secret (decision 0410).
   */
  readOnly?: boolean;
}

const READ_ONLY = {
  nl: 'Deze keuze hoort bij een andere browser of bij de cookiebanner op de website. Hier kunt u ze alleen bekijken of alle cookies weigeren; wijzigen doet u in de cookiebanner van de browser die ze maakte.',
  fr: 'Ce choix appartient à un autre navigateur ou au bandeau cookies du site. Ici, vous pouvez seulement le consulter ou refuser tous les cookies ; pour le modifier, utilisez le bandeau cookies du navigateur qui l’a fait.',
  en: 'This choice belongs to another browser or to the website’s cookie banner. Here you can only view it or refuse all cookies; to change it, use the cookie banner of the browser that made it.',
} as const;

/**
 * The cookie-settings page on Kluis's own site (VK-20), in the privacy portal's frame: what the
 * choice is now, a form to change it that works without JavaScript, every cookie with provider,
 * lifetime and purpose, and the earlier choices of the consent id. Server-rendered, no script.
 */
export function renderSettingsPage(input: SettingsPageInput): string {
  const { frame } = input;
  const { policy, lang } = frame;
  const t = BANNER_TEXTS[lang];
  const granted = input.holding?.categories ?? [];
  const label = (category: keyof typeof t.categories): string => t.categories[category].label;
  const current = input.holding
    ? granted.length > 0
      ? t.current(granted.map((category) => label(category)).join(', '))
      : t.none
    : input.consentId
      ? t.noChoice
      : '';
  const checkbox = (category: 'analytical' | 'tracking'): Html =>
    html`<div class="field">
      <label class="check" for="c-${category}"
        ><input
          type="checkbox"
          id="c-${category}"
          name="categories"
          value="${category}"
          ${granted.includes(category) ? html` checked` : ''}
          aria-describedby="c-${category}-d"
        />
        <span>${label(category)}</span></label
      >
      <p class="hint" id="c-${category}-d">${t.categories[category].description}</p>
    </div>`;
  const tables = (['functional', 'analytical', 'tracking'] as const).map((category) => {
    const cookies = cookiesOf(policy, category);
    if (cookies.length === 0) return '';
    return html`<div class="scroll" tabindex="0" role="region" aria-label="${label(category)}">
      <table>
        <caption>
          ${label(category)}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t.columns.name}</th>
            <th scope="col">${t.columns.provider}</th>
            <th scope="col">${t.columns.lifetime}</th>
            <th scope="col">${t.columns.purpose}</th>
          </tr>
        </thead>
        <tbody>
          ${cookies.map(
            (cookie) =>
              html`<tr>
                <th scope="row">${cookie.name}</th>
                <td>${cookie.provider}</td>
                <td>${STATEMENT_TEXTS[lang].cookies.lifetime(cookie.lifetime)}</td>
                <td>${cookie.purpose[lang]}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  });
  const chosen = (receipt: Receipt): string =>
    [label('functional'), ...receipt.categories.map((category) => label(category))].join(', ');
  const history =
    input.receipts.length === 0
      ? ''
      : html`<h2>${t.history}</h2>
          <div class="scroll" tabindex="0" role="region" aria-label="${t.history}">
            <table>
              <thead>
                <tr>
                  <th scope="col">${t.given}</th>
                  <th scope="col">${t.choose}</th>
                  <th scope="col">${t.policyVersion}</th>
                  <th scope="col">${t.sourceColumn}</th>
                </tr>
              </thead>
              <tbody>
                ${input.receipts.map(
                  (receipt) =>
                    html`<tr>
                      <td>${receipt.givenAt.toISOString().replace('T', ' ').slice(0, 16)} UTC</td>
                      <td>${chosen(receipt)}</td>
                      <td>${receipt.policyVersion}</td>
                      <td>${t.source[receipt.source]}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`;
  const website = policy.controller.website;
  const websiteUrl =
    website === undefined ? undefined : /^https?:\/\//.test(website) ? website : `https://${website}`;
  const choiceForm = html`<form method="post" action="${input.tenantBase}/cookies">
    <input type="hidden" name="lang" value="${lang}" />
    <input type="hidden" name="csrf" value="${input.csrf}" />
    ${input.consentId ? html`<input type="hidden" name="consent" value="${input.consentId}" />` : ''}
    <fieldset>
      <legend>${t.choose}</legend>
      <div class="field">
        <label class="check" for="c-functional"
          ><input type="checkbox" id="c-functional" checked disabled aria-describedby="c-functional-d" />
          <span>${label('functional')} (${t.alwaysOn})</span></label
        >
        <p class="hint" id="c-functional-d">${t.categories.functional.description}</p>
      </div>
      ${askedCategories(policy).map(checkbox)}
    </fieldset>
    <p class="pager">
      <button type="submit" name="action" value="refuse">${t.refuse}</button>
      <button type="submit" name="action" value="accept">${t.accept}</button>
      <button type="submit" name="action" value="save">${t.save}</button>
    </p>
  </form>`;
  const readOnlyForm = html`<p class="notice info">${READ_ONLY[lang]}</p>
    <form method="post" action="${input.tenantBase}/cookies">
      <input type="hidden" name="lang" value="${lang}" />
      <input type="hidden" name="csrf" value="${input.csrf}" />
      ${input.consentId ? html`<input type="hidden" name="consent" value="${input.consentId}" />` : ''}
      <p class="pager"><button type="submit" name="action" value="refuse">${t.refuse}</button></p>
    </form>`;
  const body = html`<h1>${t.settingsTitle}</h1>
    <p>${t.intro}</p>
    ${input.gpc ? html`<p class="notice info">${t.gpc}</p>` : ''} ${current ? html`<p>${current}</p>` : ''}
    ${input.readOnly ? readOnlyForm : choiceForm}
    ${input.consentId ? html`<p>${t.consentId}: <code>${input.consentId}</code></p>` : ''}
    <h2>${t.details}</h2>
    ${tables} ${history} ${websiteUrl ? html`<p><a href="${websiteUrl}">${t.back}</a></p>` : ''}`;
  const path = `${frame.base}/cookies${input.consentId ? `?consent=${input.consentId}` : ''}`;
  return renderPortalPage(frame, {
    title: t.settingsTitle,
    path,
    body,
    ...(input.saved ? { notice: { kind: 'info' as const, text: t.saved } } : {}),
  });
}
