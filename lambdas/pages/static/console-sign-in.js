// Staff sign-in, one step at a time as the API asks (api.md): POST staff/sessions answers tokens
// or a challenge; POST staff/sessions/challenge answers each challenge with tokens or the next
// one. NEW_PASSWORD_REQUIRED asks for a new password; MFA_SETUP starts the authenticator set-up
// (a QR code of otpauthUri drawn here, the key as text) and then takes a code;
// SOFTWARE_TOKEN_MFA takes a code. The challenge session lives in this module only.
import { problemText, request } from './console-api.js';
import { $, announce, busy, clearError, focusOn, showError } from './console-ui.js';
import qrcode from './vendor-qrcode-generator.js';

const steps = ['#sign-in-form', '#new-password-form', '#mfa-setup', '#mfa-code-form'];
const alerts = ['#sign-in-error', '#new-password-error', '#mfa-setup-error', '#mfa-code-error'];

/** The challenge in progress: { session, challenge }. */
let pending = null;
let signedIn = () => {};

function showStep(id) {
  for (const step of steps) $(step).hidden = step !== id;
  $('#sign-in-restart').hidden = id === '#sign-in-form';
}

/** Back to the first step; every secret of the walk so far leaves the page. */
export function resetSignIn() {
  pending = null;
  for (const form of ['#sign-in-form', '#new-password-form', '#mfa-setup-form', '#mfa-code-form']) $(form).reset();
  for (const id of alerts) clearError($(id));
  $('#mfa-qr').replaceChildren();
  $('#mfa-secret').textContent = '';
  showStep('#sign-in-form');
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * The otpauth:// URI as an SVG QR code built with DOM calls (no markup strings, no image URL:
 * the CSP allows neither inline markup from data nor data: images). Error correction M, four
 * modules of quiet zone as the standard asks, one path for the dark modules.
 */
function drawQr(container, text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const size = count + 2 * quiet;
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) if (qr.isDark(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code: scan it with your authenticator app');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  const modules = document.createElementNS(SVG, 'path');
  modules.setAttribute('d', d);
  modules.setAttribute('fill', '#000');
  svg.append(background, modules);
  container.replaceChildren(svg);
}

/** A base32 key in groups of four, for reading and typing; apps ignore the spaces. */
const grouped = (key) => key.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');

/** An answer of either route: tokens end the walk; a challenge shows its step. */
async function follow(res, alertEl, doing, labels) {
  if (res.status === 200 && res.json?.accessToken) {
    const { accessToken } = res.json;
    resetSignIn();
    signedIn(accessToken);
    return;
  }
  if (res.status === 200 && typeof res.json?.challenge === 'string' && typeof res.json.session === 'string') {
    pending = { session: res.json.session, challenge: res.json.challenge };
    switch (res.json.challenge) {
      case 'NEW_PASSWORD_REQUIRED':
        showStep('#new-password-form');
        announce('Choose your own password to continue.');
        focusOn($('#new-password-heading'));
        return;
      case 'MFA_SETUP':
        if (res.json.otpauthUri && res.json.secretCode) showEnrolment(res.json);
        else await startEnrolment(alertEl);
        return;
      case 'SOFTWARE_TOKEN_MFA':
        showStep('#mfa-code-form');
        announce('Enter the code from your authenticator app.');
        focusOn($('#mfa-code-heading'));
        return;
      default:
        pending = null;
        showError(alertEl, 'This sign-in asks for a step the console does not offer. Ask an administrator for help.');
        return;
    }
  }
  if (res.status === 401) {
    showError(alertEl, unauthorisedText(doing));
    return;
  }
  showError(alertEl, problemText(res, doing, labels));
}

function unauthorisedText(doing) {
  if (doing === 'sign in') return 'The username or password is not right. Try again.';
  if (doing === 'check the code') {
    return 'That code is not right, or this sign-in took too long. Enter the code the app shows now; if it still fails, start again with your username.';
  }
  return 'This sign-in took too long. Start again with your username.';
}

async function startEnrolment(alertEl) {
  const session = pending?.session;
  if (!session) return;
  const res = await busy($('#view-sign-in'), 'Preparing your authenticator set-up…', () =>
    request('POST', 'staff/sessions/challenge', { body: { session, challenge: 'MFA_SETUP' }, anonymous: true }),
  );
  if (res.status === 200 && res.json?.challenge === 'MFA_SETUP' && res.json.secretCode && res.json.otpauthUri) {
    pending = { session: res.json.session, challenge: 'MFA_SETUP' };
    showEnrolment(res.json);
    return;
  }
  if (res.status === 401) {
    resetSignIn();
    showError($('#sign-in-error'), 'This sign-in took too long. Sign in again.');
    return;
  }
  showError(alertEl, problemText(res, 'start the authenticator set-up'));
}

function showEnrolment(answer) {
  pending = { session: answer.session, challenge: 'MFA_SETUP' };
  drawQr($('#mfa-qr'), answer.otpauthUri);
  $('#mfa-secret').textContent = grouped(answer.secretCode);
  showStep('#mfa-setup');
  announce('Set up your authenticator app.');
  focusOn($('#mfa-setup-heading'));
}

async function submitPassword(event) {
  event.preventDefault();
  const form = $('#sign-in-form');
  const alertEl = $('#sign-in-error');
  clearError(alertEl);
  const username = form.elements.username.value.trim();
  const password = form.elements.password.value;
  if (!username || !password) {
    showError(alertEl, !username ? 'Username: enter your staff username.' : 'Password: enter your password.');
    return;
  }
  const res = await busy(form, 'Signing in…', () => request('POST', 'staff/sessions', { body: { username, password }, anonymous: true }));
  form.elements.password.value = '';
  await follow(res, alertEl, 'sign in', { 'body.username': 'Username', 'body.password': 'Password' });
}

async function submitNewPassword(event) {
  event.preventDefault();
  const form = $('#new-password-form');
  const alertEl = $('#new-password-error');
  clearError(alertEl);
  const newPassword = form.elements.newPassword.value;
  if (newPassword.length < 15) {
    showError(alertEl, 'New password: use at least 15 characters.');
    return;
  }
  if (!pending) return;
  const body = { session: pending.session, challenge: 'NEW_PASSWORD_REQUIRED', newPassword };
  const res = await busy(form, 'Setting your password…', () => request('POST', 'staff/sessions/challenge', { body, anonymous: true }));
  if (res.status !== 400) form.elements.newPassword.value = '';
  await follow(res, alertEl, 'set your password', { 'body.newPassword': 'New password' });
}

/** The code as typed, without spaces; undefined unless it is 6 digits. */
function codeOf(form, alertEl) {
  const code = form.elements.code.value.replace(/\s+/g, '');
  if (/^\d{6}$/.test(code)) return code;
  showError(alertEl, 'Code: enter the 6 digits your authenticator app shows.');
  return undefined;
}

async function submitCode(event, formId, alertId, challenge) {
  event.preventDefault();
  const form = $(formId);
  const alertEl = $(alertId);
  clearError(alertEl);
  const code = codeOf(form, alertEl);
  if (!code || !pending) return;
  const body = { session: pending.session, challenge, code };
  const res = await busy(form, 'Checking the code…', () => request('POST', 'staff/sessions/challenge', { body, anonymous: true }));
  form.elements.code.value = '';
  await follow(res, alertEl, 'check the code', { 'body.code': 'Code' });
}

function startAgain() {
  resetSignIn();
  announce('Sign in again with your username and password.');
  focusOn($('#sign-in-heading'));
}

/** `onSignedIn(accessToken)` runs once a step answers tokens. */
export function setUpSignIn(onSignedIn) {
  signedIn = onSignedIn;
  $('#sign-in-form').addEventListener('submit', (e) => void submitPassword(e));
  $('#new-password-form').addEventListener('submit', (e) => void submitNewPassword(e));
  $('#mfa-setup-form').addEventListener('submit', (e) => void submitCode(e, '#mfa-setup-form', '#mfa-setup-error', 'MFA_SETUP'));
  $('#mfa-code-form').addEventListener('submit', (e) => void submitCode(e, '#mfa-code-form', '#mfa-code-error', 'SOFTWARE_TOKEN_MFA'));
  $('#sign-in-again').addEventListener('click', startAgain);
}
