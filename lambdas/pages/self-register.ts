/**
 * `/portal/self-register` (issue 19): a person who is not yet enrolled asks for a portal login.
 * Only where settings.selfRegistration is the form on the page; otherwise the page says the
 * practice does not offer it (as /portal/verify does for settings.emailMatch). The form posts to
 * POST /self-registrations, which answers one body whatever the email; the emailed link
 * (`/portal/self-register#token=…`) opens this same page, whose script (static/self-register.js)
 * takes the token from the fragment, clears it from the address bar and posts it to
 * POST /self-registrations/verify. The request then waits for the practice's staff; once they
 * approve it, the person gets a `/portal/verify#token=…` link to choose their credentials.
 * Rendered with no data in it, like every patient page.
 */
import { field, form } from './forms.ts';
import { html, renderPage, type RawHtml } from './layout.ts';

export interface SelfRegisterOptions {
  /** settings.selfRegistration: the form is offered only where it is on. */
  selfRegistration: boolean;
}

const section = (state: string, body: RawHtml, hidden = true) =>
  html`<section data-state="${state}"${hidden ? html` hidden` : ''} tabindex="-1">${body}</section>`;

/** A date field: the browser's date picker, sent as YYYY-MM-DD. */
const dateField = (id: string, name: string, label: string, autocomplete: string, hint: string) =>
  html`<div class="field">
<label for="${id}">${label}</label>
<p class="hint" id="${id}-hint">${hint}</p>
<input id="${id}" name="${name}" type="date" autocomplete="${autocomplete}" aria-describedby="${id}-hint" min="1900-01-01" max="2100-12-31" required>
</div>`;

/** A phone field: the phone keypad on a phone; spaces and dashes are taken out before sending. */
const phoneField = (id: string, name: string, label: string, hint: string) =>
  html`<div class="field">
<label for="${id}">${label}</label>
<p class="hint" id="${id}-hint">${hint}</p>
<input id="${id}" name="${name}" type="tel" autocomplete="tel" inputmode="tel" aria-describedby="${id}-hint" maxlength="32">
</div>`;

const requestForm = form({
  id: 'self-register-form',
  submit: 'Send',
  busy: 'Sending…',
  fields: [
    field({ id: 'first-name', name: 'firstName', label: 'First name', autocomplete: 'given-name' }),
    field({ id: 'last-name', name: 'lastName', label: 'Last name', autocomplete: 'family-name' }),
    dateField('date-of-birth', 'dateOfBirth', 'Date of birth', 'bday', 'The practice uses it to find your record.'),
    field({ id: 'email', name: 'email', label: 'Email', type: 'email', autocomplete: 'email', hint: 'We email you a link to confirm it is yours.' }),
    phoneField('phone', 'phone', 'Phone (optional)', 'With the country code, for example +1 555 123 4567.'),
  ],
});

const ask = (on: boolean): RawHtml =>
  on
    ? html`<p>Not yet enrolled in this practice’s patient portal? Ask for a login here. We email you a link to confirm your email address; then the practice checks who you are and, once they approve, emails you a link to choose your username and password.</p>
${requestForm}
<p>Already have a login? <a href="login">Sign in</a>.</p>`
    : html`<p id="self-registration-off">This practice does not offer asking for a portal login online. Ask the practice’s front desk for an invitation. If you already have a login, <a href="login">sign in</a>.</p>`;

const body = (o: SelfRegisterOptions) => html`<h1>Ask for a portal login</h1>
<noscript><p class="notice">This page needs JavaScript turned on in your browser.</p></noscript>
${section('request', ask(o.selfRegistration))}
${section(
  'requested',
  html`<h2>Check your email</h2>
<p id="requested-message">If we can take a request for that email address, a link is on its way to it. Open it within 24 hours to confirm your request.</p>
<p>No email after a few minutes? Check your spam folder, or call the practice’s front desk.</p>`,
)}
${section('verifying', html`<p role="status">Confirming your email…</p>`)}
${section(
  'verified',
  html`<h2>Your email is confirmed</h2>
<p>Your request now waits for the practice. Once the practice has checked who you are, we email you a link to choose your username and password.</p>
<p>You can close this page.</p>`,
)}
${section(
  'gone',
  html`<h2>This link no longer works</h2>
<p>The link has expired (it works for 24 hours), or it has already been used.</p>
<p>If you already confirmed your email, your request waits for the practice: there is nothing more to do. Otherwise <a href="self-register">ask again</a>, or call the practice’s front desk.</p>`,
)}
${section(
  'old-link',
  html`<h2>This link no longer works</h2>
<p>It is of an older kind that is no longer accepted.</p>
<p><a href="self-register">Ask again</a>, or call the practice’s front desk.</p>`,
)}`;

/** From /portal/self-register, the assets and the API are one and two levels up: relative, for a stage prefix. */
export function renderSelfRegisterPage(options: SelfRegisterOptions): string {
  return renderPage({
    title: 'Ask for a portal login – Patient portal',
    body: body(options),
    scripts: ['portal.js', 'self-register.js'],
    styles: ['self-register.css'],
    assetBase: '../assets/',
    apiBase: '../',
    data: { page: 'self-register' },
  });
}
