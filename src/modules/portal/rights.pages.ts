import { describeRestrictionExemptions } from '../../kernel/policy/index.js';
import type { Right } from '../../kernel/policy/policy.schema.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { html, trusted, type Html } from './html.js';
import { renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import type { CorrectableField } from './texts.js';

export const CORRECTABLE_FIELDS: readonly CorrectableField[] = [
  'givenName',
  'familyName',
  'email',
  'phone',
  'street',
  'postalCode',
  'city',
];

const INPUT_TYPE: Record<CorrectableField, { type: string; autocomplete: string }> = {
  givenName: { type: 'text', autocomplete: 'given-name' },
  familyName: { type: 'text', autocomplete: 'family-name' },
  email: { type: 'email', autocomplete: 'email' },
  phone: { type: 'tel', autocomplete: 'tel' },
  street: { type: 'text', autocomplete: 'street-address' },
  postalCode: { type: 'text', autocomplete: 'postal-code' },
  city: { type: 'text', autocomplete: 'address-level2' },
};

/**
 * What a right does, in the frame's language; the restriction names the uses it leaves, from the
 * same policy the gate enforces, as the statement does (decision 0902).
 */
export function explainRight(frame: PortalFrame, right: Right): string {
  const t = textsOf(frame);
  const exemptions =
    right === 'restriction' ? describeRestrictionExemptions(frame.policy, frame.lang) : undefined;
  return exemptions === undefined ? t.rights.explain[right] : t.rights.explainRestrictionExcept(exemptions);
}

export function renderRightsPage(frame: PortalFrame): string {
  const t = textsOf(frame);
  const body = html`<h1>${t.rights.title}</h1>
    <p>${t.rights.intro}</p>
    <p><a href="${frame.base}/account">${t.rights.accountHint}</a></p>
    <ul class="cards">
      ${frame.policy.rights.offered.map(
        (right) =>
          html`<li>
            <h2><a href="${frame.base}/rights/${right}">${t.rights.names[right]}</a></h2>
            <p>${explainRight(frame, right)}</p>
          </li>`,
      )}
    </ul>
    <p><a href="${frame.base}/report">${t.report.link}</a></p>`;
  return renderPortalPage(frame, { title: t.rights.title, path: `${frame.base}/rights`, body });
}

/** The purposes a right applies to: objection → legitimate interests, withdrawal → consent. */
export function purposesFor(frame: PortalFrame, right: Right): Array<{ key: string; label: string }> {
  const basis =
    right === 'objection' ? 'legitimate_interests' : right === 'withdraw_consent' ? 'consent' : undefined;
  if (!basis) return [];
  return Object.entries(frame.policy.purposes)
    .filter(([, purpose]) => purpose.legalBasis === basis)
    .map(([key, purpose]) => ({ key, label: purpose.label[frame.lang] }));
}

export interface FormState {
  email?: string;
  error?: string;
  values?: Partial<Record<CorrectableField | 'transferTo', string>>;
}

/** The request form of one right: e-mail, and what that right needs (purposes, transfer, fields). */
export function renderRequestForm(
  frame: PortalFrame,
  right: Right,
  csrf: string,
  state: FormState = {},
): string {
  const t = textsOf(frame);
  const name = t.rights.names[right];
  const purposes = purposesFor(frame, right);
  const errorId = state.error ? 'form-error' : undefined;
  const extra: Html[] = [];
  if (purposes.length > 0)
    extra.push(
      html`<fieldset>
        <legend>${t.form.purposes}</legend>
        <p class="hint">${t.form.purposesHint}</p>
        ${purposes.map(
          (purpose) =>
            html`<label class="check"
              ><input type="checkbox" name="purposes" value="${purpose.key}" />
              <span>${purpose.label}</span></label
            >`,
        )}
      </fieldset>`,
    );
  if (right === 'portability' && frame.policy.rights.portabilityToOtherOrganisation)
    extra.push(
      html`<div class="field">
        <label for="transferTo">${t.form.transferTo}</label>
        <p class="hint" id="transferTo-hint">${t.form.transferToHint}</p>
        <input
          type="url"
          id="transferTo"
          name="transferTo"
          inputmode="url"
          aria-describedby="transferTo-hint"
          value="${state.values?.transferTo ?? ''}"
          placeholder="https://"
        />
      </div>`,
    );
  if (right === 'rectification')
    extra.push(
      html`<fieldset>
        <legend>${t.form.fields}</legend>
        <p class="hint">${t.form.fieldsHint}</p>
        ${CORRECTABLE_FIELDS.filter((field) => field !== 'email').map(
          (field) =>
            html`<div class="field">
              <label for="c-${field}">${t.form.fieldNames[field]}</label
              ><input
                type="${INPUT_TYPE[field].type}"
                id="c-${field}"
                name="c-${field}"
                autocomplete="${INPUT_TYPE[field].autocomplete}"
                value="${state.values?.[field] ?? ''}"
              />
            </div>`,
        )}
      </fieldset>`,
    );
  const body = html`<h1>${t.form.title(name)}</h1>
    <p>${explainRight(frame, right)}</p>
    ${state.error ? html`<div class="notice error" role="alert" id="form-error"><strong>${t.form.errorTitle}:</strong> ${state.error}</div>` : ''}
    <form
      method="post"
      action="${frame.base}/rights/${right}"
      novalidate${errorId ? trusted(' aria-describedby="form-error"') : ''}
    >
      <input type="hidden" name="csrf" value="${csrf}" />
      <input type="hidden" name="language" value="${frame.lang}" />
      <div class="field">
        <label for="email">${t.form.email} <span class="hint">(${t.form.required})</span></label>
        <p class="hint" id="email-hint">${t.form.emailHint}</p>
        <input
          type="email"
          id="email"
          name="email"
          required
          autocomplete="email"
          aria-describedby="email-hint"
          value="${state.email ?? ''}"
        />
      </div>
      ${extra}
      <button type="submit">${t.form.submit}</button>
    </form>
    <p class="hint">
      ${STATEMENT_TEXTS[frame.lang].rights.deadline(frame.policy.rights.answerDeadlineDays)}
      ${STATEMENT_TEXTS[frame.lang].rights.free}
    </p>`;
  return renderPortalPage(frame, { title: name, path: `${frame.base}/rights/${right}`, body });
}

export interface RequestView {
  requestId: string;
  kind: Right;
  state: 'awaiting_verification' | 'verified' | 'fulfilled' | 'rejected';
  receivedOn: string;
  dueOn: string;
}

/**
 * The page the mail links to: while the request waits for its code, the code form ("Enter the
 * code", the words the mail uses); afterwards, the request's status. The status token in the
 * address is what lets this page show anything at all.
 */
export function renderRequestPage(
  frame: PortalFrame,
  request: RequestView,
  token: string,
  csrf: string,
  notice?: { kind: 'info' | 'error'; text: string },
): string {
  const t = textsOf(frame);
  const path = `${frame.base}/rights/requests/${request.requestId}?token=${token}`;
  const facts = html`<dl class="facts">
    <dt>${t.status.kind}</dt>
    <dd>${t.rights.names[request.kind]}</dd>
    <dt>${t.status.state}</dt>
    <dd>${t.status.states[request.state]}</dd>
    <dt>${t.status.received}</dt>
    <dd>${request.receivedOn}</dd>
    <dt>${t.status.due}</dt>
    <dd>${request.dueOn}</dd>
  </dl>`;
  if (request.state === 'awaiting_verification') {
    const body = html`<h1>${t.confirm.title}</h1>
      <p>${t.confirm.sent}</p>
      <form method="post" action="${frame.base}/rights/requests/${request.requestId}">
        <input type="hidden" name="csrf" value="${csrf}" />
        <input type="hidden" name="token" value="${token}" />
        <div class="field">
          <label for="code">${t.confirm.code}</label>
          <p class="hint" id="code-hint">${t.confirm.codeHint}</p>
          <input
            class="code"
            type="text"
            id="code"
            name="code"
            inputmode="numeric"
            pattern="[0-9]{6}"
            maxlength="6"
            autocomplete="one-time-code"
            required
            aria-describedby="code-hint"
          />
        </div>
        <button type="submit">${t.confirm.submit}</button>
      </form>
      <h2>${t.status.title}</h2>
      ${facts}
      <p class="hint">${t.status.keep}</p>`;
    return renderPortalPage(frame, { title: t.confirm.title, path, body, ...(notice ? { notice } : {}) });
  }
  const download =
    request.state === 'fulfilled' && (request.kind === 'access' || request.kind === 'portability')
      ? html`<p>${t.status.downloadMailed}</p>`
      : '';
  const body = html`<h1>${t.status.title}</h1>
    ${facts}
    <p>${t.status.next[request.state]}</p>
    ${download}
    <p class="hint">${t.status.keep}</p>`;
  return renderPortalPage(frame, { title: t.status.title, path, body, ...(notice ? { notice } : {}) });
}

/** A page that says what went wrong, in the person's language, with a way back. */
export function renderErrorPage(frame: PortalFrame, text: string, back: string): string {
  const t = textsOf(frame);
  return renderPortalPage(frame, {
    title: t.form.errorTitle,
    path: back,
    body: html`<h1>${t.form.errorTitle}</h1>
      <p role="alert">${text}</p>
      <p><a href="${back}">${t.errors.back}</a></p>`,
  });
}
