/**
 * The staff console page, rendered on the server with no data in it: the script
 * (lambdas/pages/static/console.js and its console-*.js modules) signs staff in and calls the
 * same HTTPS API as any staff client. Views start `hidden`; the script shows one at a time.
 */
import { selfRegistrationsView } from './console-self-registrations.ts';
import { html, renderPage, type RawHtml } from './layout.ts';
import { proxiesPanel } from './console-proxies.ts';

const alertBox = (id: string) => html`<p class="form-error" id="${id}" role="alert" tabindex="-1" hidden></p>`;

const textField = (id: string, name: string, label: string, extra: RawHtml = html``, hint?: string) =>
  html`<div class="field">
<label for="${id}">${label}</label>
${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
<input id="${id}" name="${name}"${hint ? html` aria-describedby="${id}-hint"` : ''}${extra}>
</div>`;

const checkbox = (id: string, name: string, label: string, hint?: string) =>
  html`<div class="field check">
<input type="checkbox" id="${id}" name="${name}"${hint ? html` aria-describedby="${id}-hint"` : ''}>
<label for="${id}">${label}</label>
${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
</div>`;

const numberField = (id: string, name: string, label: string, min: number, max: number, hint: string) =>
  textField(id, name, label, html` type="number" inputmode="numeric" min="${min}" max="${max}" step="1" required`, hint);

/** A TOTP code field: digits only on phones, and the browser or password manager may fill it. */
const codeField = (id: string) =>
  textField(
    id,
    'code',
    'Code',
    html` inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="10" required`,
    'The 6 digits your authenticator app shows now.',
  );

/**
 * Staff sign-in, one step at a time as the API asks (api.md, POST /staff/sessions and
 * /staff/sessions/challenge): username and password; a new password where the current one was
 * set by an administrator; the authenticator app set-up (a QR code drawn here by
 * vendor-qrcode-generator.js, the key as text beside it, then a code); or a code. The script
 * shows one step's form at a time.
 */
const signIn = html`<section id="view-sign-in" aria-labelledby="sign-in-heading">
<h2 id="sign-in-heading" tabindex="-1">Staff sign-in</h2>
<p id="sign-in-note" class="notice" hidden></p>
<form id="sign-in-form" method="post" novalidate>
${alertBox('sign-in-error')}
${textField('sign-in-username', 'username', 'Username', html` autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required`)}
${textField('sign-in-password', 'password', 'Password', html` type="password" autocomplete="current-password" maxlength="256" required`)}
<button type="submit">Sign in</button>
</form>
<form id="new-password-form" method="post" novalidate aria-labelledby="new-password-heading" hidden>
<h3 id="new-password-heading" tabindex="-1">Choose your own password</h3>
<p>The password you used was set by an administrator. Choose a new one to continue.</p>
${alertBox('new-password-error')}
${textField('new-password', 'newPassword', 'New password', html` type="password" autocomplete="new-password" minlength="15" maxlength="256" required`, 'At least 15 characters. A few unrelated words are easy to remember and hard to guess.')}
<button type="submit">Set new password</button>
</form>
<section id="mfa-setup" aria-labelledby="mfa-setup-heading" hidden>
<h3 id="mfa-setup-heading" tabindex="-1">Set up your authenticator app</h3>
<p>Every staff sign-in needs a code from an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator or 1Password).</p>
<ol>
<li>In the app, add an account and scan this QR code, or choose to enter a key and type the key shown with it.</li>
<li>Enter the 6-digit code the app then shows.</li>
</ol>
<div class="mfa-enrol">
<figure class="qr">
<div id="mfa-qr"></div>
<figcaption>QR code for your authenticator app</figcaption>
</figure>
<div class="mfa-key">
<p id="mfa-secret-label">Key to type instead of scanning:</p>
<p class="secret-value mfa-secret" id="mfa-secret"></p>
<p class="hint">Keep this key to yourself: anyone with it can make your codes.</p>
</div>
</div>
<form id="mfa-setup-form" method="post" novalidate>
${alertBox('mfa-setup-error')}
${codeField('mfa-setup-code')}
<button type="submit">Finish set-up</button>
</form>
</section>
<form id="mfa-code-form" method="post" novalidate aria-labelledby="mfa-code-heading" hidden>
<h3 id="mfa-code-heading" tabindex="-1">Enter the code from your authenticator app</h3>
${alertBox('mfa-code-error')}
${codeField('mfa-code')}
<button type="submit">Sign in</button>
</form>
<p id="sign-in-restart" hidden><button type="button" id="sign-in-again" class="link">Start again with your username</button></p>
</section>`;

const nav = html`<nav class="console-nav" aria-label="Console">
<div class="who">
<p>Signed in as <strong id="who"></strong> <span id="who-role"></span></p>
<p id="who-permissions" class="hint"></p>
</div>
<ul>
<li><button type="button" data-view="patients">Patients</button></li>
<li data-invite-only hidden><button type="button" data-view="self-registrations">Waiting for approval</button></li>
<li data-admin-only hidden><button type="button" data-view="settings">Settings</button></li>
<li data-admin-only hidden><button type="button" data-view="staff">Staff</button></li>
<li><button type="button" id="sign-out">Sign out</button></li>
</ul>
</nav>`;

const patients = html`<section id="view-patients" aria-labelledby="patients-heading" hidden>
<h2 id="patients-heading" tabindex="-1">Find a patient</h2>
<form id="search-form" method="get" role="search" novalidate>
${alertBox('search-error')}
${textField('search-query', 'query', 'Search', html` type="search" autocomplete="off" maxlength="254"`, 'The start of a patient id, or an exact email, username or master case number. Leave empty to list every record.')}
${textField('search-registered-since', 'registeredSince', 'Registered since (optional)', html` type="date" autocomplete="off"`, 'Only patients who finished registering for the portal on or after this date.')}
<button type="submit">Search</button>
</form>
<div id="search-results" hidden>
<p id="search-summary" tabindex="-1"></p>
<ul id="results" class="results"></ul>
<button type="button" id="search-more" hidden>More results</button>
</div>
<h3>Open or create a record by patient id</h3>
<form id="open-form" method="get" novalidate>
${alertBox('open-error')}
${textField('open-patient-id', 'patientId', 'Patient id', html` autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64"`, 'The id from the practice system, e.g. P-1.')}
<button type="submit">Open</button>
</form>
<div id="create-offer" class="notice" hidden>
<p>Create a new portal record for patient <strong id="create-patient-id"></strong>? You can add the email and cases next.</p>
<button type="button" id="create-record">Create record</button>
</div>
</section>`;

const actionButtons = html`<div id="actions" class="actions">
${alertBox('action-error')}
<ul>
<li><button type="button" data-action="invite">Invite</button></li>
<li><button type="button" data-action="resend">Resend invitation</button></li>
<li><button type="button" data-action="cancel" class="danger">Cancel invitation</button></li>
<li><button type="button" data-action="pin">Show PIN</button></li>
<li><button type="button" data-action="register">Register Patient</button></li>
<li><button type="button" data-action="lobby">Lobby password</button></li>
<li><button type="button" data-action="reset">Send reset</button></li>
<li><button type="button" data-action="revoke" class="danger">Revoke access</button></li>
<li><button type="button" id="show-audit" hidden>Audit trail</button></li>
</ul>
</div>`;

const secretBox = html`<section id="secret-box" class="secret" aria-labelledby="secret-title" tabindex="-1" hidden>
<h3 id="secret-title"></h3>
<p class="secret-value" id="secret-value" aria-describedby="secret-spelled"></p>
<p class="visually-hidden" id="secret-spelled"></p>
<p id="secret-expiry"></p>
<p class="hint">Shown here only while this record is open. It is not kept anywhere on this device.</p>
</section>`;

// The only part of the page that prints: what the patient needs to sign in, nothing else.
const slip = html`<section id="slip" class="slip" aria-labelledby="slip-title" tabindex="-1" hidden>
<h3 id="slip-title">Your patient portal sign-in</h3>
<p id="slip-practice"></p>
<dl>
<dt>Sign in at</dt><dd id="slip-url"></dd>
<dt>Username</dt><dd id="slip-username" class="secret-value"></dd>
<dt>Temporary password</dt><dd id="slip-password" class="secret-value"></dd>
<dt>Valid until</dt><dd id="slip-expiry"></dd>
</dl>
<p>When you first sign in you will choose your own password. Keep this slip private and throw it away afterwards.</p>
<p class="no-print"><button type="button" id="print-slip">Print slip</button></p>
</section>`;

const audit = html`<section id="audit" aria-labelledby="audit-heading" hidden>
<h3 id="audit-heading" tabindex="-1">Audit trail</h3>
${alertBox('audit-error')}
<p id="audit-empty" hidden>No entries.</p>
<div class="table-scroll">
<table>
<caption class="visually-hidden">Audit trail, newest first</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Details</th></tr></thead>
<tbody id="audit-rows"></tbody>
</table>
</div>
<button type="button" id="audit-more" hidden>More entries</button>
</section>`;

// "I can't get in" (issue 15): every reason, in words to read aloud, and the one fix staff can make here.
const diagnosisPanel = html`<section id="diagnosis" class="diagnosis" aria-labelledby="diagnosis-heading">
<h3 id="diagnosis-heading" tabindex="-1">Can’t get in?</h3>
${alertBox('diagnosis-error')}
<p id="diagnosis-summary"></p>
<ul id="diagnosis-reasons"></ul>
<p><button type="button" id="clear-lock" hidden>Clear the lock</button></p>
</section>`;

const recordView = html`<section id="view-record" aria-labelledby="record-heading" hidden>
<p><button type="button" id="record-back" class="link">Back to search</button></p>
<h2 id="record-heading" tabindex="-1"></h2>
<p class="status-message" id="record-status" tabindex="-1"></p>
<p><button type="button" id="refresh-record" class="secondary">Refresh</button></p>
${diagnosisPanel}
${secretBox}
${slip}
<h3>Actions</h3>
${actionButtons}
${proxiesPanel}
<h3>Record</h3>
<dl id="record-fields" class="fields"></dl>
<h3>Edit record</h3>
<form id="edit-form" method="post" novalidate>
${alertBox('edit-error')}
<p><button type="button" id="reload-record" hidden>Reload record</button></p>
${textField('edit-email', 'email', 'Email', html` type="email" autocomplete="off" maxlength="254"`, 'Where invitations and resets go. Leave empty to remove it.')}
${textField('edit-phone', 'phone', 'Phone', html` type="tel" autocomplete="off" maxlength="16"`, 'International format, e.g. +15551234567.')}
${textField('edit-master-case', 'masterCase', 'Master case number', html` autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64"`, 'What the patient types as "Case number" at the lobby kiosk.')}
${checkbox('edit-access', 'accessEnabled', 'Portal access enabled')}
${textField('edit-cases', 'cases', 'Cases', html` autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="13000"`, 'The case numbers this login can see, separated by commas.')}
<div class="field">
<label for="edit-comment">Comment</label>
<p class="hint" id="edit-comment-hint">Internal; never shown to the patient. No clinical details.</p>
<textarea id="edit-comment" name="comment" rows="3" maxlength="2000" aria-describedby="edit-comment-hint"></textarea>
</div>
<button type="submit">Save changes</button>
</form>
${audit}
</section>`;

const settings = html`<section id="view-settings" aria-labelledby="settings-heading" hidden>
<h2 id="settings-heading" tabindex="-1">Practice settings</h2>
<form id="settings-form" method="post" novalidate>
${alertBox('settings-error')}
${textField('settings-practice-name', 'practiceName', 'Practice name', html` autocomplete="organization" maxlength="120" required`, 'Shown to patients in emails and pages.')}
${textField('settings-portal-url', 'portalUrl', 'Portal address', html` type="url" autocomplete="url" maxlength="512" required`, 'The https address emailed links start with.')}
${numberField('settings-invitation-days', 'invitationDays', 'Invitation valid for (days)', 1, 90, 'Default 14; 1 to 90.')}
${numberField('settings-temporary-hours', 'temporaryPasswordHours', 'Temporary password valid for (hours)', 1, 720, 'Default 72; 1 to 720.')}
${numberField('settings-lobby-minutes', 'lobbyMinutes', 'Lobby password valid for (minutes)', 5, 1440, 'Default 60; 5 to 1440.')}
${numberField('settings-reset-minutes', 'resetMinutes', 'Reset link valid for (minutes)', 5, 1440, 'Default 60; 5 to 1440 (24 hours).')}
${checkbox('settings-email-match', 'emailMatch', 'Patients may register by email match', 'Default off. A patient whose record has their email and no login enters that email and gets a verification link, with no PIN from the front desk. The sign-in page links to it when on.')}
${checkbox('settings-self-registration', 'selfRegistration', 'Patients may ask to register (self-registration form)', 'Default off. Staff approve each request before a link is sent.')}
${textField('settings-notify-email', 'notifyEmail', 'Practice inbox for notices', html` type="email" autocomplete="off" maxlength="254"`, 'Told, with no patient details, when a registration waits for approval and when a patient finishes registering. Empty: no notices.')}
${checkbox('settings-patient-reset', 'patientReset', 'Patients may reset their own credentials', 'Default on. The sign-in page offers a reset after a failed sign-in only when on.')}
${checkbox('settings-auto-invite', 'autoInvite', 'Invite automatically when a note is signed', 'Default off. Also needs the signer’s own auto-invite permission.')}
${checkbox('settings-phone-codes', 'phoneCodes', 'Patients may get a texted code instead of the PIN', 'Default off. Texts a 6-digit code to the phone on the record (E.164, e.g. +15555550123).')}
<p class="hint" id="settings-phone-codes-unavailable" hidden></p>
<button type="submit">Save settings</button>
</form>
<section id="forced-change" aria-labelledby="forced-heading">
<h3 id="forced-heading">Forced credential change</h3>
<p>Every registered patient must choose a new password at their next sign-in.</p>
${alertBox('forced-error')}
<button type="button" id="forced-change-button" class="danger">Require new passwords</button>
<p id="forced-result" tabindex="-1"></p>
</section>
</section>`;

const staffSlip = html`<section id="staff-slip" class="slip" aria-labelledby="staff-slip-title" tabindex="-1" hidden>
<h3 id="staff-slip-title">Staff console sign-in</h3>
<dl>
<dt>Sign in at</dt><dd id="staff-slip-url"></dd>
<dt>Username</dt><dd id="staff-slip-username" class="secret-value"></dd>
<dt>Temporary password</dt><dd id="staff-slip-password" class="secret-value"></dd>
<dt>Valid until</dt><dd id="staff-slip-expiry"></dd>
</dl>
<p>At first sign-in you choose your own password and set up an authenticator app on your phone. Keep this slip private and throw it away afterwards.</p>
<p class="no-print hint" id="staff-slip-hint">Shown only now: the temporary password is not emailed and cannot be shown again. Print this slip or copy the password and hand it over in person.</p>
<p class="no-print slip-buttons"><button type="button" id="staff-slip-print">Print slip</button> <button type="button" id="staff-slip-copy">Copy password</button> <button type="button" id="staff-slip-done">Done</button></p>
</section>`;

const permissions = html`<section id="permissions" aria-labelledby="permissions-heading">
<h3 id="permissions-heading" tabindex="-1">Staff permissions</h3>
${alertBox('permissions-error')}
<form id="permissions-load" method="get" novalidate>
${textField('permissions-staff-id', 'staffId', 'Staff id', html` autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="128"`, 'The staff user’s sign-in name.')}
<button type="submit">Load</button>
</form>
<form id="permissions-form" method="post" novalidate hidden>
<fieldset>
<legend id="permissions-legend" tabindex="-1"></legend>
${checkbox('permissions-can-invite', 'canInvite', 'Can invite and register patients')}
${checkbox('permissions-auto-invite', 'autoInvite', 'Invites automatically when they sign a note')}
</fieldset>
<button type="submit">Save permissions</button>
</form>
</section>`;

/** Admins only: the staff users (GET /staff), a new one, disable or enable, a lost authenticator, permissions. */
const staffView = html`<section id="view-staff" aria-labelledby="staff-heading" hidden>
<h2 id="staff-heading" tabindex="-1">Staff</h2>
${staffSlip}
${alertBox('staff-error')}
<p id="staff-summary" tabindex="-1"></p>
<div class="table-scroll" id="staff-table" hidden>
<table>
<caption class="visually-hidden">Staff users</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Access</th><th scope="col">Authenticator</th><th scope="col">Permissions</th><th scope="col">Actions</th></tr></thead>
<tbody id="staff-rows"></tbody>
</table>
</div>
<h3 id="staff-create-heading">Add a staff user</h3>
<form id="staff-create-form" method="post" novalidate aria-labelledby="staff-create-heading">
${alertBox('staff-create-error')}
${textField('staff-create-username', 'username', 'Username', html` autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="128" required`, 'What they type to sign in.')}
${textField('staff-create-email', 'email', 'Email', html` type="email" autocomplete="off" maxlength="254" required`, 'Their work address. Nothing secret is sent to it.')}
<fieldset>
<legend>Role</legend>
<div class="field check"><input type="radio" id="staff-create-role-staff" name="role" value="staff" checked><label for="staff-create-role-staff">Staff</label></div>
<div class="field check"><input type="radio" id="staff-create-role-admin" name="role" value="admin"><label for="staff-create-role-admin">Administrator (settings and staff users too)</label></div>
</fieldset>
<button type="submit">Create staff user</button>
</form>
${permissions}
</section>`;

const confirmDialog = html`<dialog id="confirm-dialog" aria-labelledby="confirm-title" aria-describedby="confirm-message">
<h2 id="confirm-title">Please confirm</h2>
<p id="confirm-message"></p>
<div class="dialog-buttons">
<button type="button" id="confirm-cancel">Go back</button>
<button type="button" id="confirm-ok" class="danger"></button>
</div>
</dialog>`;

export function renderConsolePage(): string {
  return renderPage({
    title: 'Staff console',
    assetBase: 'assets/',
    scripts: ['console.js'],
    styles: ['console.css'],
    body: html`<h1>Patient portal: staff console</h1>
<noscript><p class="notice">The console needs JavaScript turned on in your browser.</p></noscript>
<p id="console-status" class="status-line" role="status" aria-live="polite"></p>
${signIn}
<div id="signed-in" hidden>
${nav}
${patients}
${recordView}
${selfRegistrationsView}
${settings}
${staffView}
</div>
${confirmDialog}`,
  });
}
