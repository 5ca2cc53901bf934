import { buildStatement, type EnforcedPromises } from '../../kernel/policy/index.js';
import { html, type Html } from './html.js';
import { renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import { explainRight } from './rights.pages.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';

/** Anchor ids for headings: stable per position, so a link into section 7 survives rewording. */
const anchorOf = (index: number): string => `s${index + 1}`;

/**
 * The privacy statement as a readable page: the same blocks the statement generator makes (so it
 * cannot say anything the generated statement does not), with a table of contents, the tenant's
 * colours, and under the rights section a link to the form of each right the policy offers.
 */
export function renderStatementPage(frame: PortalFrame, enforced: EnforcedPromises): string {
  const t = textsOf(frame);
  const document = buildStatement(frame.policy, frame.lang, enforced);
  const rightsHeading = STATEMENT_TEXTS[frame.lang].headings.rights;
  const sections: Array<{ id: string; text: string }> = [];
  const parts: Html[] = [];
  let title = document.title;
  let inRights = false;
  const rightsLinks = (): Html =>
    html`<nav aria-labelledby="rights-links">
      <h3 id="rights-links">${t.statement.rightsLinks}</h3>
      <ul class="cards">
        ${frame.policy.rights.offered.map(
          (right) =>
            html`<li>
              <a href="${frame.base}/rights/${right}">${t.rights.names[right]}</a>
              <p class="hint">${explainRight(frame, right)}</p>
            </li>`,
        )}
      </ul>
    </nav>`;
  for (const block of document.blocks) {
    switch (block.kind) {
      case 'heading':
        if (block.level === 1) {
          title = block.text;
          parts.push(html`<h1>${block.text}</h1>`);
          break;
        }
        if (inRights) parts.push(rightsLinks());
        inRights = block.level === 2 && block.text === rightsHeading;
        if (block.level === 2) {
          const id = anchorOf(sections.length);
          sections.push({ id, text: block.text });
          parts.push(html`<h2 id="${id}">${block.text}</h2>`);
        } else parts.push(html`<h3>${block.text}</h3>`);
        break;
      case 'paragraph':
        parts.push(html`<p>${block.text}</p>`);
        break;
      case 'list':
        parts.push(
          html`<ul>
            ${block.items.map((item) => html`<li>${item}</li>`)}
          </ul>`,
        );
        break;
      case 'table':
        parts.push(
          html`<div class="scroll" tabindex="0" role="region" aria-label="${title}">
            <table>
              <thead>
                <tr>
                  ${block.header.map((cell) => html`<th scope="col">${cell}</th>`)}
                </tr>
              </thead>
              <tbody>
                ${block.rows.map(
                  (row) =>
                    html`<tr>
                      ${row.map((cell) => html`<td>${cell}</td>`)}
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`,
        );
        break;
    }
  }
  if (inRights) parts.push(rightsLinks());
  const [heading, ...rest] = parts;
  const toc = html`<nav class="toc" aria-labelledby="toc-title">
    <h2 id="toc-title">${t.statement.contents}</h2>
    <ol>
      ${sections.map((section) => html`<li><a href="#${section.id}">${section.text}</a></li>`)}
    </ol>
  </nav>`;
  return renderPortalPage(frame, {
    title,
    path: `${frame.base}/privacy`,
    body: html`${heading}${toc}${rest}`,
  });
}
