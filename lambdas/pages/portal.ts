/**
 * The patient pages, rendered on the server with no data in them: everything a page learns
 * (is the link still good, who is signed in) comes from the API calls of its script,
 * lambdas/pages/static/portal.js. Sections start `hidden`; the script shows one at a time.
 */
import { field, form, passwordRules, usernameRules } from './forms.ts';
import { renderAccountPage } from './account.ts';
import { renderSelfRegisterPage } from './self-register.ts';
import { html, renderPage, type RawHtml } from './layout.ts';

export type PortalPage = 'register' | 'verify' | 'login' | 'reset' | 'lobby' | 'account';
/** With the page that has a module of its own besides account.ts: self-register.ts (issue 19). */
export type PortalPageName = PortalPage | 'self-register';

/** What the practice's settings change on a page (issue 15 item 6): never data about anyone. */
export interface PortalOptions {
  /** settings.emailMatch: /portal/login links to the email-match method, /portal/verify offers it. */
  emailMatch: boolean;
  /** settings.patientReset: the reset offer after a failed sign-in. */
  patientReset: boolean;
  /** settings.selfRegistration: /portal/login links to /portal/self-register, which offers its form. */
  selfRegistration: boolean;
}
export const defaultPortalOptions: PortalOptions = { emailMatch: false, patientReset: true, selfRegistration: false };
/** The pages whose content depends on the options (the others are read no settings for). */
export const pagesWithOptions: readonly PortalPageName[] = ['login', 'verify', 'self-register'];

const callPractice = 'Please call the practice’s front desk: they can send you a new one.';

// Found by data-state (not id, which a field of the same name may need).
const section = (state: string, body: RawHtml, hidden = true) =>
  html`<section data-state="${state}"${hidden ? html` hidden` : ''} tabindex="-1">${body}</section>`;

const noScript = html`<noscript><p class="notice">This page needs JavaScript turned on in your browser.</p></noscript>`;

/**
 * Shown for a link of the old form (`?token=…`, before rule 26 moved the token after `#`): such a
 * link is never read, so it cannot be used; `next` says how to get a new one.
 */
const oldLinkSection = (next: RawHtml) =>
  section(
    'old-link',
    html`<h2>This link no longer works</h2>
<p>It is from an older email, and links of that kind are no longer accepted.</p>
<p>${next}</p>`,
  );

/** The end of both ways to register (invitation link, email-match link). */
const registeredSection = section(
  'done',
  html`<h2>You are registered</h2>
<p>Your login <strong id="done-username"></strong> is ready.</p>
<p><a class="button" href="login">Sign in</a></p>`,
);

/**
 * Issue 17: where the lookup says a texted code can replace the PIN (`needs` has "phoneCode"),
 * the script shows this offer; once a code is texted the PIN field gives way to the Code field.
 */
const phoneCodeOffer = html`<div id="phone-code-offer" hidden>
<p>Not at the front desk? We can text a code to the phone number the practice has on file.</p>
<button type="button" id="phone-code-send">Text me a code instead</button>
<p id="phone-code-status" role="status"></p>
</div>`;
const phoneCodeField = html`<div class="field" id="phone-code-field" hidden>
<label for="phoneCode">Code</label>
<p class="hint" id="phoneCode-hint">The 6 digits in the text message. A code works for 10 minutes.</p>
<input id="phoneCode" name="phoneCode" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="one-time-code" aria-describedby="phoneCode-hint" maxlength="32" autocapitalize="none" spellcheck="false" autocorrect="off">
</div>`;

/**
 * A proxy (caregiver) invitation (issue 18): the person may add the record to the login they
 * already have instead of creating one. Shown by the script only when the lookup answers
 * kind "proxy"; the register form's own PIN, Username and Password fields then carry the
 * existing login's name and password (POST /registrations with existingLogin).
 */
const proxyLoginChoice = html`<fieldset id="login-choice" class="choice-group" hidden>
<legend>You are invited to act for someone. Which login do you want to use?</legend>
<div class="choice"><input type="radio" id="login-choice-new" name="loginChoice" value="new" checked><label for="login-choice-new">Create a new login</label></div>
<div class="choice"><input type="radio" id="login-choice-existing" name="loginChoice" value="existing"><label for="login-choice-existing">I already have a login</label></div>
</fieldset>`;

const pages: Record<Exclude<PortalPage, 'account'>, { title: string; body: RawHtml | ((options: PortalOptions) => RawHtml) }> = {
  register: {
    title: 'Create your portal login',
    body: html`<h1>Create your portal login</h1>
${noScript}
${section('checking', html`<p role="status">Checking your invitation link…</p>`, false)}
${section(
  'no-token',
  html`<h2>This page needs the link from your email</h2>
<p>Open the link in your invitation email again. If you no longer have the email, ${callPractice}</p>`,
)}
${oldLinkSection(html`${callPractice} If you already created your login, <a href="login">sign in</a>.`)}
${section(
  'gone',
  html`<h2>This invitation link no longer works</h2>
<p>The link has expired, has already been used, or was replaced by a newer invitation.</p>
<p>${callPractice} If you already created your login, <a href="login">sign in</a>.</p>`,
)}
${proxyLoginChoice}
${section(
  'form',
  html`<p id="invitation-info"></p>
<p>You need the PIN the front desk gave you in person. It is not in the email.</p>
${phoneCodeOffer}
${form({
  id: 'register-form',
  submit: 'Register',
  busy: 'Registering…',
  fields: [
    field({ id: 'pin', name: 'pin', label: 'PIN', autocomplete: 'one-time-code', code: true, hint: '6 letters and digits, from the front desk.' }),
    phoneCodeField,
    field({ id: 'username', name: 'username', label: 'Username', autocomplete: 'username', code: true, hint: usernameRules }),
    field({ id: 'password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: passwordRules }),
  ],
})}`,
)}
${registeredSection}`,
  },

  verify: {
    title: 'Confirm your email',
    body: (o: PortalOptions) => html`<h1>Create your portal login with your email</h1>
${noScript}
${section(
  'request',
  o.emailMatch ? html`<p>Enter the email address the practice has on file for you. If it matches, we email you a link to create your login.</p>
${form({
  id: 'request-form',
  submit: 'Email me a link',
  busy: 'Sending…',
  fields: [field({ id: 'email', name: 'email', label: 'Email', type: 'email', autocomplete: 'email' })],
})}` : html`<p id="email-match-off">This practice does not offer creating a login with your email. Ask the practice’s front desk for an invitation. If you already have a login, <a href="login">sign in</a>.</p>`,
)}
${section(
  'requested',
  html`<h2>Check your email</h2>
<p id="requested-message">If that email address matches the practice’s records, a link is on its way. It works for 24 hours.</p>
<p>No email after a few minutes? Check your spam folder, or call the practice’s front desk.</p>`,
)}
${oldLinkSection(html`<a href="verify">Ask for a new link</a>, or call the practice’s front desk.`)}
${section(
  'form',
  html`<p>Your email is confirmed. Choose a username and password.</p>
${form({
  id: 'confirm-form',
  submit: 'Register',
  busy: 'Registering…',
  fields: [
    field({ id: 'username', name: 'username', label: 'Username', autocomplete: 'username', code: true, hint: usernameRules }),
    field({ id: 'password', name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: passwordRules }),
  ],
})}`,
)}
${section(
  'gone',
  html`<h2>This link no longer works</h2>
<p>The link has expired, has already been used, or was replaced by a newer one.</p>
<p><a href="verify">Ask for a new link</a>, or call the practice’s front desk. If you already created your login, <a href="login">sign in</a>.</p>`,
)}
${registeredSection}`,
  },

  login: {
    title: 'Sign in to the patient portal',
    body: (o: PortalOptions) => html`<h1>Sign in to the patient portal</h1>
${noScript}
${section(
  'signin',
  html`${form({
    id: 'signin-form',
    submit: 'Sign in',
    busy: 'Signing in…',
    fields: [
      field({ id: 'username', name: 'username', label: 'Username', autocomplete: 'username', code: true }),
      field({ id: 'password', name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' }),
    ],
  })}
${o.emailMatch ? html`<p id="email-match-link">No login yet? <a href="verify">Create one with the email address the practice has on file for you</a>.</p>` : ''}
${o.selfRegistration ? html`<p id="self-register-link">New to the practice, or not enrolled in the portal yet? <a href="self-register">Ask for a portal login</a>.</p>` : ''}
${o.patientReset ? html`<div id="reset-offer" class="offer" hidden>
<h2>Forgot your password?</h2>
<p>We can email you a link and a PIN to choose a new password.</p>
${form({
  id: 'reset-request-form',
  submit: 'Email me a reset link',
  busy: 'Sending…',
  fields: [field({ id: 'reset-username', name: 'username', label: 'Username', autocomplete: 'username', code: true })],
})}
<p id="reset-requested" role="status" class="notice" hidden></p>
</div>` : ''}`,
  false,
)}
${section(
  'new-password',
  html`<h2>Choose your own password</h2>
<p>You signed in with a temporary password, or the practice asked everyone to choose a new one. Choose your own password now.</p>
${form({
  id: 'new-password-form',
  submit: 'Save password',
  busy: 'Saving…',
  fields: [
    field({ id: 'new-password', name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', hint: passwordRules }),
    field({
      id: 'new-username',
      name: 'newUsername',
      label: 'New username (optional)',
      autocomplete: 'username',
      code: true,
      required: false,
      hint: `Leave empty to keep your username. ${usernameRules}`,
    }),
  ],
})}`,
)}
${section(
  'signed-in',
  html`<h2>You are signed in</h2>
<p>Signed in as <strong id="account-username"></strong>.</p>
<p>On a shared device, sign out when you are done.</p>
<button type="button" id="sign-out">Sign out</button>`,
)}`,
  },

  reset: {
    title: 'Choose a new password',
    body: html`<h1>Choose a new password</h1>
${noScript}
${section(
  'no-token',
  html`<h2>This page needs the link from your email</h2>
<p>Open the link in your reset email again, or <a href="login">ask for a new one on the sign-in page</a>.</p>`,
)}
${oldLinkSection(html`<a href="login">Ask for a new link on the sign-in page</a>, or call the practice’s front desk.`)}
${section(
  'form',
  html`<p>Enter your username again, the PIN from the reset email, and your new password.</p>
${form({
  id: 'reset-form',
  submit: 'Reset',
  busy: 'Resetting…',
  fields: [
    field({ id: 'username', name: 'username', label: 'Username', autocomplete: 'username', code: true }),
    field({ id: 'pin', name: 'pin', label: 'PIN', autocomplete: 'one-time-code', code: true, hint: '6 letters and digits, from the reset email.' }),
    field({ id: 'new-password', name: 'newPassword', label: 'New password', type: 'password', autocomplete: 'new-password', hint: passwordRules }),
    field({
      id: 'new-username',
      name: 'newUsername',
      label: 'New username (optional)',
      autocomplete: 'off',
      code: true,
      required: false,
      hint: `Leave empty to keep your username. ${usernameRules}`,
    }),
  ],
})}`,
  false,
)}
${section(
  'gone',
  html`<h2>This reset link no longer works</h2>
<p>The link has expired, has already been used, was replaced by a newer one, or too many wrong PINs were entered.</p>
<p><a href="login">Ask for a new link on the sign-in page</a>, or call the practice’s front desk.</p>`,
)}
${section(
  'done',
  html`<h2>Your password is changed</h2>
<p>For your safety, every device signed in to your portal has been signed out.</p>
<p><a class="button" href="login">Sign in</a></p>`,
)}`,
  },

  lobby: {
    title: 'Lobby check-in',
    body: html`<h1>Lobby check-in</h1>
${noScript}
${section(
  'signin',
  html`<p>Enter your case number and the lobby password the front desk gave you.</p>
${form({
  id: 'lobby-form',
  submit: 'Sign in',
  busy: 'Signing in…',
  fields: [
    field({ id: 'case-number', name: 'masterCase', label: 'Case number', autocomplete: 'off', code: true }),
    field({ id: 'lobby-password', name: 'lobbyPassword', label: 'Lobby password', type: 'password', autocomplete: 'off', hint: 'Like ABCDE-FGHIJ, from the front desk. Works once.' }),
  ],
})}`,
  false,
)}
${section(
  'intake',
  html`<h2>Your intake paperwork</h2>
<p>This session is only for your intake forms. It ends <strong id="intake-expiry"></strong>.</p>
<button type="button" id="intake-start" data-busy="Opening…">Start</button>
<p id="intake-started" role="status" class="notice" hidden></p>
<p><button type="button" id="lobby-end" class="secondary">End session</button></p>`,
)}
${section(
  'ended',
  html`<h2>Session ended</h2>
<p>This lobby session has ended. Ask the front desk for a new lobby password if you need more time.</p>
<p><a class="button" href="lobby">Back to lobby check-in</a></p>`,
)}`,
  },
};

export const isPortalPage = (name: string): name is PortalPageName => name === 'account' || name === 'self-register' || Object.hasOwn(pages, name);

/** From /portal/<page>, the assets and the API are one and two levels up: relative, for a stage prefix. */
export function renderPortalPage(name: PortalPageName, options: PortalOptions = defaultPortalOptions): string {
  if (name === 'account') return renderAccountPage();
  if (name === 'self-register') return renderSelfRegisterPage(options);
  const page = pages[name];
  return renderPage({
    title: `${page.title} – Patient portal`,
    body: typeof page.body === 'function' ? page.body(options) : page.body,
    scripts: ['portal.js'],
    assetBase: '../assets/',
    apiBase: '../',
    data: { page: name },
  });
}

export function renderNotFoundPage(assetBase = '../assets/'): string {
  return renderPage({
    title: 'Page not found – Patient portal',
    body: html`<h1>Page not found</h1>
<p>There is no page at this address. Check the link, or go to the <a href="login">sign-in page</a>.</p>`,
    assetBase,
  });
}
