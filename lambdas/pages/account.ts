/**
 * The patient's account page, `/portal/account`, where a sign-in lands (issue 15 item 5): the
 * records this login reaches, change password, change username, sign out, and the last sign-ins
 * to the login. Issue 18 adds the proxies: "Records you can open" (each opened through
 * GET /account/records/{patientId}, refused once the access has ended) and, for a login that is
 * a patient itself, "People who can act for you" (list, end access after a confirmation, invite
 * someone and see their PIN once to pass on). Rendered with no data in it, like every patient
 * page; its script (static/account.js) reads the tab's session and calls the API.
 */
import { field, form, passwordRules, usernameRules } from './forms.ts';
import { html, renderPage } from './layout.ts';

const section = (state: string, body: ReturnType<typeof html>, hidden = true) =>
  html`<section data-state="${state}"${hidden ? html` hidden` : ''} tabindex="-1">${body}</section>`;

/**
 * "People who can act for you": only for a login that is a patient itself (role self); the
 * script shows it once GET /account/proxies answers. The PIN of a new invitation is shown once,
 * here, for the patient to pass on in person: it is never emailed and never kept by the page.
 */
const proxies = html`<div id="proxies" class="proxies" hidden>
<h2 id="proxies-heading">People who can act for you</h2>
<p>They sign in with their own login and can open your record. You can end anyone’s access at any time: it stops at once.</p>
<div class="form-error" role="alert" id="proxies-error" tabindex="-1"></div>
<ul id="proxy-list" class="records" aria-labelledby="proxies-heading"></ul>
<p id="proxy-none" hidden>Nobody can act for you.</p>
<p id="proxy-changed" role="status" class="notice" hidden></p>

<h3 id="invite-heading">Invite someone</h3>
<p>We email them a link. You get a PIN to give them yourself: they need both to get access.</p>
<form id="proxy-form" method="post" novalidate aria-labelledby="invite-heading">
<div class="form-error" role="alert" id="proxy-form-error"></div>
${field({ id: 'proxy-name', name: 'name', label: 'Name', autocomplete: 'off', hint: 'Their full name, as they would give it to the practice.' })}
${field({ id: 'proxy-email', name: 'email', label: 'Email', type: 'email', autocomplete: 'off', hint: 'Where we send their link.' })}
${field({ id: 'proxy-relationship', name: 'relationship', label: 'Relationship', autocomplete: 'off', hint: 'What they are to you, for example: parent, daughter, carer (letters and spaces, up to 40).' })}
<fieldset class="field">
<legend>Scope</legend>
<div class="choice"><input type="radio" id="proxy-scope-limited" name="scope" value="limited" checked><label for="proxy-scope-limited">Limited: a summary of your record, without your cases</label></div>
<div class="choice"><input type="radio" id="proxy-scope-full" name="scope" value="full"><label for="proxy-scope-full">Full: your record as you see it, cases included</label></div>
</fieldset>
<div class="field">
<label for="proxy-until">End date (optional)</label>
<p class="hint" id="proxy-until-hint">Their access ends at the end of this day. Leave it empty for no end date: you can still end it at any time.</p>
<input id="proxy-until" name="until" type="date" aria-describedby="proxy-until-hint">
</div>
<button type="submit" data-busy="Inviting…">Invite</button>
</form>
<section id="proxy-pin" class="notice pin-box" aria-labelledby="proxy-pin-heading" tabindex="-1" hidden>
<h3 id="proxy-pin-heading">Their PIN</h3>
<p class="pin" id="proxy-pin-value" aria-describedby="proxy-pin-spelled"></p>
<p class="visually-hidden" id="proxy-pin-spelled"></p>
<p id="proxy-pin-words"></p>
<p>It is shown only now. Pass it on in person or by phone, never by email or text message.</p>
<button type="button" id="proxy-pin-done" class="secondary">I have noted the PIN</button>
</section>
</div>`;

/** The confirmation before a proxy's access ends (the script fills in who). */
const endDialog = html`<dialog id="end-dialog" aria-labelledby="end-title" aria-describedby="end-message">
<h2 id="end-title">End access?</h2>
<p id="end-message"></p>
<div class="dialog-buttons">
<button type="button" id="end-cancel" class="secondary">Keep access</button>
<button type="button" id="end-confirm" class="danger">End access</button>
</div>
</dialog>`;

const body = html`<h1>Your portal account</h1>
<noscript><p class="notice">This page needs JavaScript turned on in your browser.</p></noscript>
${section('loading', html`<p role="status">Loading your account…</p>`, false)}
${section(
  'ended',
  html`<h2>You are signed out</h2>
<p>Your session has ended. Please sign in again.</p>
<p><a class="button" href="login">Sign in</a></p>`,
)}
${section(
  'signed-in',
  html`<h2>You are signed in</h2>
<p>Signed in as <strong id="account-username"></strong>.</p>
<p id="account-email" hidden></p>
<p>On a shared device, sign out when you are done.</p>
<button type="button" id="sign-out" class="secondary">Sign out</button>

<h2 id="records-heading">Records you can open</h2>
<p>Your own record, and the record of anyone who lets you act for them.</p>
<div class="form-error" role="alert" id="records-error" tabindex="-1"></div>
<ul id="account-records" class="records" aria-labelledby="records-heading"></ul>
<p id="records-none" hidden>This login cannot open any record now.</p>
<section id="record-opened" class="opened" aria-labelledby="record-opened-heading" tabindex="-1" hidden>
<h3 id="record-opened-heading"></h3>
<dl id="record-opened-fields"></dl>
</section>

${proxies}

<h2>Change your password</h2>
<p>Every other device signed in to your portal is signed out, and we email you a notice.</p>
${form({
  id: 'password-form',
  submit: 'Change password',
  busy: 'Changing…',
  fields: [
    field({ id: 'password-current', name: 'currentPassword', label: 'Current password', type: 'password', autocomplete: 'current-password' }),
    field({ id: 'password-new', name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', hint: passwordRules }),
  ],
})}
<p id="password-changed" role="status" class="notice" hidden></p>

<h2>Change your username</h2>
${form({
  id: 'username-form',
  submit: 'Change username',
  busy: 'Changing…',
  fields: [
    field({ id: 'username-new', name: 'newUsername', label: 'New username', autocomplete: 'username', code: true, hint: usernameRules }),
    field({ id: 'username-current', name: 'currentPassword', label: 'Current password', type: 'password', autocomplete: 'current-password' }),
  ],
})}
<p id="username-changed" role="status" class="notice" hidden></p>

<h2 id="sign-ins-heading">Recent sign-ins</h2>
<p>The last sign-ins to your login, newest first. If one was not you, change your password now and call the practice’s front desk.</p>
<ol id="sign-ins" aria-labelledby="sign-ins-heading"></ol>
<p id="sign-ins-none" hidden>No sign-ins yet.</p>

<h2>Signed in somewhere else?</h2>
<p>Changing your password or your username signs out every other device at once.</p>`,
)}
${endDialog}`;

/** From /portal/account, the assets and the API are one and two levels up: relative, for a stage prefix. */
export function renderAccountPage(): string {
  return renderPage({
    title: 'Your account – Patient portal',
    body,
    scripts: ['portal.js', 'account.js'],
    styles: ['account.css'],
    assetBase: '../assets/',
    apiBase: '../',
    data: { page: 'account' },
  });
}
