import { LANGUAGES, type Language, type Policy } from '../../kernel/policy/policy.schema.js';
import type { Tenant } from '../tenants/index.js';
import { html, trusted, type Html, type HtmlValue } from './html.js';
import { PORTAL_TEXTS, type PortalTexts } from './texts.js';
import { themeProperties, type PortalTheme } from './theme.js';

/** What every portal page is drawn with: whose portal, in which language, in which colours. */
export interface PortalFrame {
  tenant: Tenant;
  policy: Policy;
  lang: Language;
  theme: PortalTheme;
  /** `/t/<slug>`: every link of the portal starts here. */
  base: string;
  /** The languages the tenant's statement is offered in (the switcher shows these). */
  languages: readonly Language[];
  /** Set on account pages when someone is logged in (shows the account menu and log-out). */
  account?: { csrf: string };
}

export interface PageOptions {
  title: string;
  body: Html;
  /** The path of this page without ?lang, for the language switcher's links. */
  path: string;
  /** Notices shown above the content: `error` is announced to screen readers at once. */
  notice?: { kind: 'info' | 'error'; text: string };
}

export const textsOf = (frame: PortalFrame): PortalTexts => PORTAL_TEXTS[frame.lang];

export function controllerName(policy: Policy): string {
  return `${policy.controller.legalName} ${policy.controller.legalForm}`;
}

// One small stylesheet for all pages: readable type, large targets, visible focus, phone first.
// Inline (helmet's CSP allows inline styles, never inline script); colours come from the theme.
const STYLE = trusted(`
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;font-size:100%;line-height:1.55;color:#1a1a1a;background:#f6f7f9}
body{margin:0}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:2}
.skip:focus{left:.5rem}
header.site{background:var(--brand-strong);color:var(--on-brand);border-top:.5rem solid var(--brand)}
header.site .inner,nav.main .inner,main,footer .inner{max-width:48rem;margin:0 auto;padding:0 1rem}
header.site .inner{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding-block:.75rem}
header.site .name{font-weight:700;font-size:1.15rem;color:var(--on-brand);text-decoration:none;display:inline-flex;align-items:center;gap:.6rem}
header.site .logo{height:2.5rem;width:auto;max-width:10rem;object-fit:contain;background:#fff;border-radius:.25rem;padding:.15rem}
.langs{display:flex;gap:.25rem;list-style:none;margin:0;padding:0}
.langs a{color:var(--on-brand);padding:.35rem .5rem;border-radius:.25rem;display:inline-block;min-width:2.75rem;text-align:center}
.langs a[aria-current]{font-weight:700;text-decoration:none;box-shadow:inset 0 -3px 0 var(--on-brand)}
nav.main{background:#fff;border-bottom:1px solid #d9dde3}
nav.main ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:.5rem 0}
nav.main a{display:inline-block;padding:.4rem 0}
nav.main a[aria-current]{font-weight:700}
main{padding-block:1.5rem 3rem;background:#fff}
h1{font-size:1.75rem;line-height:1.25;margin:.25rem 0 1rem}
h2{font-size:1.3rem;line-height:1.3;margin:2rem 0 .5rem}
h3{font-size:1.1rem;margin:1.5rem 0 .5rem}
.toc{background:#f2f4f7;border-left:4px solid var(--brand);padding:.75rem 1rem;margin:1rem 0}
.toc ol{margin:.25rem 0;padding-left:1.25rem}
.cards{list-style:none;padding:0;display:grid;gap:.75rem}
.cards li{border:1px solid #d9dde3;border-radius:.5rem;padding:.75rem 1rem}
.cards h2,.cards h3{margin:.1rem 0 .25rem;font-size:1.1rem}
form{margin:1rem 0}
form.inline{display:inline;margin:0}
.field{margin:0 0 1rem}
label,legend{display:block;font-weight:600;margin-bottom:.25rem}
fieldset{border:1px solid #d9dde3;border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1rem}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400;margin:.35rem 0}
.check input{width:1.25rem;height:1.25rem;margin-top:.15rem}
.hint{color:#4a4f57;font-size:.95rem;margin:.1rem 0 .35rem}
input[type=email],input[type=text],input[type=password],input[type=url],input[type=tel],select{width:100%;max-width:32rem;font:inherit;padding:.6rem .7rem;border:1px solid #6b7280;border-radius:.35rem;background:#fff}
input.code{max-width:10rem;font-size:1.4rem;letter-spacing:.3rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.7rem 1.2rem;border-radius:.4rem;border:0;background:var(--accent);color:var(--on-accent);cursor:pointer;min-height:2.75rem;text-decoration:none}
button.secondary{background:#fff;color:var(--link);border:2px solid var(--link)}
.notice{padding:.75rem 1rem;border-radius:.4rem;margin:0 0 1rem;border-left:5px solid}
.notice.info{background:#eef6ee;border-color:#2e7d32}
.notice.error{background:#fdecec;border-color:#b3261e}
dl.facts{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
dl.facts dd ul{margin:0;padding-left:1.1rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}
.scroll{overflow-x:auto;max-width:100%}
th,td{text-align:left;border-bottom:1px solid #d9dde3;padding:.4rem .5rem;vertical-align:top}
.pager{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;margin:1rem 0}
footer{border-top:1px solid #d9dde3;color:#4a4f57;font-size:.9rem;padding:1rem 0 2rem}
@media (max-width:30rem){h1{font-size:1.45rem}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}}
`);

/** Logo height in CSS pixels (the stylesheet's 2.5rem): the width/height attributes keep its room. */
const LOGO_HEIGHT = 40;

/**
 * The tenant's logo in the header (decision 0291), before its name: decorative (`alt=""`), since
 * the name follows in the same link. Versioned by its hash, so a new logo is not served from cache.
 */
function logoImage(frame: PortalFrame): Html | '' {
  const logo = frame.theme.logo;
  if (!logo) return '';
  const width = Math.max(1, Math.round((logo.width * LOGO_HEIGHT) / logo.height));
  return html`<img
    class="logo"
    src="${frame.base}/logo?v=${logo.version}"
    alt=""
    width="${String(width)}"
    height="${String(LOGO_HEIGHT)}"
  />`;
}

/** The one page frame of the portal; exported for the consent and cookie pages to use too. */
export function renderPortalPage(frame: PortalFrame, page: PageOptions): string {
  const t = textsOf(frame);
  const name = controllerName(frame.policy);
  const here = (path: string): boolean => page.path === path || page.path.startsWith(`${path}/`);
  const navItem = (path: string, label: string): Html =>
    html`<li><a href="${path}" ${here(path) ? trusted(' aria-current="page"') : ''}>${label}</a></li>`;
  const separator = page.path.includes('?') ? '&' : '?';
  const languageLinks: HtmlValue[] = frame.languages.map(
    (lang) =>
      html`<li>
        <a
          href="${page.path}${separator}lang=${lang}"
          lang="${lang}"
          hreflang="${lang}"
          ${lang === frame.lang ? trusted(' aria-current="true"') : ''}
          >${PORTAL_TEXTS[lang].languageName}</a
        >
      </li>`,
  );
  const notice = page.notice
    ? html`<div
        class="notice ${page.notice.kind}"
        role="${page.notice.kind === 'error' ? 'alert' : 'status'}"
      >
        ${page.notice.text}
      </div>`
    : '';
  const logout = frame.account
    ? html`<li>
        <form method="post" action="${frame.base}/account/logout" class="inline">
          <input type="hidden" name="csrf" value="${frame.account.csrf}" /><button
            class="secondary"
            type="submit"
          >
            ${t.account.logout}
          </button>
        </form>
      </li>`
    : '';
  const document = html`<!doctype html>
    <html lang="${frame.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${page.title} — ${name}</title>
        <style>
          :root{${themeProperties(frame.theme)}}${STYLE}
        </style>
      </head>
      <body>
        <a class="skip" href="#content">${t.skip}</a>
        <header class="site">
          <div class="inner">
            <a class="name" href="${frame.base}/privacy">${logoImage(frame)}<span>${name}</span></a>
            <nav aria-label="${t.nav.languages}">
              <ul class="langs">
                ${languageLinks}
              </ul>
            </nav>
          </div>
        </header>
        <nav class="main" aria-label="${t.footer(name)}">
          <div class="inner">
            <ul>
              ${navItem(`${frame.base}/privacy`, t.nav.statement)}
              ${navItem(`${frame.base}/rights`, t.nav.rights)}
              ${navItem(`${frame.base}/account`, t.nav.account)} ${logout}
            </ul>
          </div>
        </nav>
        <main id="content" tabindex="-1">${notice} ${page.body}</main>
        <footer>
          <div class="inner"><p>${t.footer(name)} · ${frame.policy.controller.privacyContact.email}</p></div>
        </footer>
      </body>
    </html> `;
  return document.toString();
}

export const isLanguage = (value: unknown): value is Language =>
  typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
