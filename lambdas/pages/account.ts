/**
 * The patient's account page, `/portal/account`, where a sign-in lands (issue 15 item 5): the
 * records this login reaches, change password, change username, sign out, and the last sign-ins
 * to the login. Rendered with no data in it, like every patient page; its script
 * (static/account.js) reads the tab's session and calls GET /account, GET /account/sign-ins and
 * PUT /account/credentials.
 */
import { field, form, passwordRules, usernameRules } from './forms.ts';
import { html, renderPage } from './layout.ts';

const section = (state: string, body: ReturnType<typeof html>, hidden = true) =>
  html`<section data-state="${state}"${hidden ? html` hidden` : ''} tabindex="-1">${body}</section>`;

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

<h2 id="records-heading">What this login can see</h2>
<ul id="account-records" aria-labelledby="records-heading"></ul>

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
)}`;

/** From /portal/account, the assets and the API are one and two levels up: relative, for a stage prefix. */
export function renderAccountPage(): string {
  return renderPage({
    title: 'Your account – Patient portal',
    body,
    scripts: ['portal.js', 'account.js'],
    assetBase: '../assets/',
    apiBase: '../',
    data: { page: 'account' },
  });
}
