// The patient pages' script (plain ES2020, no dependencies). Each page is rendered by the server
// with its sections hidden; this script calls the API on the same origin and shows one section
// at a time. Link tokens are read from the address bar's fragment once, removed from it at once
// and kept only in memory (rule 26).

const body = document.body;
// Relative to the page, so the pages also work under an API Gateway stage prefix (/prod/...).
const apiBase = new URL(body.dataset.apiBase || '../', location.href);
const page = body.dataset.page;

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- API

async function call(path, { method = 'GET', json, token } = {}) {
  const headers = { accept: 'application/json' };
  if (json !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(new URL(path, apiBase), {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    return { status: 0, body: {}, retryAfter: null };
  }
  let parsed = {};
  try {
    parsed = await res.json();
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed || {}, retryAfter: res.headers.get('retry-after') };
}

const problemCode = (res) => String(res.body.type || '').split('/').pop();

// ---------------------------------------------------------------- tokens in the address bar

/**
 * The link's token, from after `#token=` (rule 26): browsers never send the fragment, so no
 * server, log, trace or Referer holds it. Read once, removed from the address bar and history at
 * once, and kept only in this page's memory (never in storage): after a reload the page asks for
 * the link from the email again. A `?token=` link (the old form, from an email sent before the
 * change) is never read: its query is cleared and the page says the link is old.
 */
export function takeLinkToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || null;
  const oldLink = !token && new URLSearchParams(location.search).has('token');
  if (location.hash || location.search) history.replaceState(null, '', location.pathname);
  // Where an earlier version of this page kept a token for the tab.
  for (const old of ['portal.register.token', 'portal.verify.token', 'portal.reset.token']) sessionStorage.removeItem(old);
  // A link pasted into this same page changes only the fragment, which loads nothing: start over.
  window.addEventListener('hashchange', () => location.reload());
  return { token, oldLink };
}

// ---------------------------------------------------------------- sections

function show(state, { focus = true } = {}) {
  for (const section of document.querySelectorAll('[data-state]')) section.hidden = section.dataset.state !== state;
  const shown = document.querySelector(`[data-state="${state}"]`);
  if (focus && shown) shown.focus();
}

// ---------------------------------------------------------------- forms

function labelOf(input) {
  const label = input.labels && input.labels[0];
  return label ? label.textContent.replace(/\s*\(optional\)\s*$/, '').trim() : input.name;
}

function clearErrors(form) {
  $(`${form.id}-error`).replaceChildren();
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** Shows messages in the form's alert; `field` names the input a message is about. */
function showErrors(form, messages) {
  const box = $(`${form.id}-error`);
  const invalid = [];
  const texts = messages.map(({ field, text }) => {
    const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      invalid.push(input);
      return `${labelOf(input)} ${text}`.replace(/([^.!?])$/, '$1.');
    }
    return text;
  });
  if (texts.length === 1) {
    const p = document.createElement('p');
    p.textContent = texts[0];
    box.replaceChildren(p);
  } else {
    const ul = document.createElement('ul');
    for (const text of texts) {
      const li = document.createElement('li');
      li.textContent = text;
      ul.append(li);
    }
    box.replaceChildren(ul);
  }
  if (invalid[0]) invalid[0].focus();
}

function waitText(retryAfter) {
  const seconds = Number(retryAfter);
  if (!Number.isFinite(seconds) || seconds <= 0) return 'Too many tries. Wait a few minutes, then try again.';
  if (seconds < 90) return `Too many tries. Wait ${Math.ceil(seconds)} seconds, then try again.`;
  return `Too many tries. Wait ${Math.ceil(seconds / 60)} minutes, then try again.`;
}

/** The words for an answer the page has no special case for. */
function problemMessages(res) {
  if (res.status === 0) return [{ text: 'The portal could not be reached. Check your internet connection and try again.' }];
  if (res.status === 429) return [{ text: waitText(res.retryAfter) }];
  const errors = Array.isArray(res.body.errors) ? res.body.errors : [];
  const fieldErrors = errors
    .filter((e) => typeof e.path === 'string' && e.path.startsWith('body.') && typeof e.message === 'string')
    .map((e) => ({ field: e.path.split('.')[1], text: e.message }));
  if (fieldErrors.length > 0) return fieldErrors;
  if (typeof res.body.detail === 'string') return [{ text: res.body.detail }];
  if (res.status >= 500) return [{ text: 'Something went wrong on our side. Please try again in a minute.' }];
  return [{ text: 'That did not work. Please check what you entered and try again.' }];
}

function valuesOf(form) {
  const values = {};
  for (const input of form.querySelectorAll('input[name]')) {
    // Passwords are sent exactly as typed (spaces count); other fields are trimmed.
    values[input.name] = input.type === 'password' ? input.value : input.value.trim();
  }
  return values;
}

/**
 * Wires a form: checks required fields in words, disables the button with progress text while
 * the request runs, and hands any unexpected failure to the alert.
 */
function onSubmit(form, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const values = valuesOf(form);
    const missing = [...form.querySelectorAll('input[required]')].filter((i) => values[i.name] === '');
    if (missing.length > 0) {
      showErrors(form, missing.map((i) => ({ field: i.name, text: 'is required' })));
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    const label = button.textContent;
    button.disabled = true;
    button.textContent = button.dataset.busy || 'Working…';
    form.setAttribute('aria-busy', 'true');
    try {
      await handler(values);
    } catch {
      showErrors(form, [{ text: 'Something went wrong on this page. Please reload it and try again.' }]);
    } finally {
      button.disabled = false;
      button.textContent = label;
      form.removeAttribute('aria-busy');
    }
  });
}

for (const box of document.querySelectorAll('[data-show-password]')) {
  box.addEventListener('change', () => {
    $(box.dataset.showPassword).type = box.checked ? 'text' : 'password';
  });
}

function clearPasswords(root) {
  for (const input of root.querySelectorAll('input')) {
    if (input.type === 'password' || input.autocomplete === 'one-time-code') input.value = '';
    if (input.type === 'checkbox' && input.dataset.showPassword) {
      input.checked = false;
      $(input.dataset.showPassword).type = 'password';
    }
  }
}

const longDate = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
const shortTime = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });

// ---------------------------------------------------------------- the pages

const pages = {
  async register() {
    const { token, oldLink } = takeLinkToken();
    if (oldLink) return show('old-link', { focus: false });
    if (!token) return show('no-token', { focus: false });
    const res = await call('invitations/lookup', { method: 'POST', json: { token } });
    if (res.status === 200) {
      $('invitation-info').textContent = `Invitation from ${res.body.practiceName}. This link works until ${longDate(res.body.expiresAt)}.`;
      if (res.body.kind === 'proxy') offerExistingLogin(res.body.self === true);
      show('form', { focus: false });
      if ((res.body.needs || []).includes('phoneCode')) offerPhoneCode(token);
    } else if (res.status === 0 || res.status === 429 || res.status >= 500) {
      const p = document.querySelector('[data-state="checking"] p');
      p.textContent = problemMessages(res)[0].text;
      return;
    } else {
      show('gone', { focus: false });
      return;
    }
    const form = $('register-form');
    onSubmit(form, async (values) => {
      // Issue 17: the texted code in place of the PIN once one was asked for.
      const secret = $('phone-code-field').hidden ? { pin: values.pin } : { phoneCode: values.phoneCode };
      const res = await call('registrations', { method: 'POST', json: withExistingLogin({ token, ...secret, username: values.username, password: values.password }) });
      if (res.status === 201) {
        $('login-choice').hidden = true;
        clearPasswords(form);
        $('done-username').textContent = res.body.username;
        return show('done');
      }
      if (res.status === 410) {
        $('login-choice').hidden = true;
        return show('gone');
      }
      if (((res.status === 401 || res.status === 409) && usingExistingLogin()) || problemCode(res) === 'self-needs-existing-login') return showErrors(form, [{ text: existingLoginMessage(res) }]);
      if (res.status === 401) return showErrors(form, [secret.pin === undefined ? { field: 'phoneCode', text: codeMessage(res) } : { field: 'pin', text: pinMessage(res) }]);
      if (res.status === 409) return showErrors(form, [{ field: 'username', text: 'is already taken. Choose another.' }]);
      showErrors(form, problemMessages(res));
    });
  },

  async verify() {
    const { token, oldLink } = takeLinkToken();
    // Absent where the practice does not offer the email-match method (settings.emailMatch).
    const request = $('request-form');
    if (request) onSubmit(request, async (values) => {
      const res = await call('registrations/email', { method: 'POST', json: { email: values.email } });
      if (res.status === 202) {
        if (typeof res.body.message === 'string') $('requested-message').textContent = res.body.message;
        return show('requested');
      }
      showErrors(request, problemMessages(res));
    });
    const confirm = $('confirm-form');
    onSubmit(confirm, async (values) => {
      const res = await call('registrations/email/confirm', { method: 'POST', json: { token, username: values.username, password: values.password } });
      if (res.status === 201) {
        clearPasswords(confirm);
        $('done-username').textContent = res.body.username;
        return show('done');
      }
      if (res.status === 410) return show('gone');
      if (res.status === 409) return showErrors(confirm, [{ field: 'username', text: 'is already taken. Choose another.' }]);
      showErrors(confirm, problemMessages(res));
    });
    show(token ? 'form' : oldLink ? 'old-link' : 'request', { focus: false });
  },

  async login() {
    const key = 'portal.session';
    let challenge = null;
    const signin = $('signin-form');
    const offer = $('reset-offer');

    const signedIn = async (tokens) => {
      // Only the access token, in this tab: the page never refreshes, so the refresh token is not kept.
      sessionStorage.setItem(key, JSON.stringify({ accessToken: tokens.accessToken }));
      clearPasswords(document);
      // A sign-in lands on the account page (account.js), which checks the session itself.
      location.replace('account');
    };

    onSubmit(signin, async (values) => {
      const res = await call('sessions', { method: 'POST', json: { username: values.username, password: values.password } });
      if (res.status === 200 && res.body.challenge === 'NEW_PASSWORD_REQUIRED') {
        challenge = res.body.session;
        clearPasswords(signin);
        return show('new-password');
      }
      if (res.status === 200) return signedIn(res.body, true);
      $('password').value = '';
      if (res.status === 401 && problemCode(res) !== 'temporary-password-expired') {
        showErrors(signin, [{ text: 'The username or password is not right.' }]);
        // The offer is on the page only where settings.patientReset is on.
        if (!offer) return;
        offer.hidden = false;
        if (!$('reset-username').value) $('reset-username').value = values.username;
        return;
      }
      showErrors(signin, problemMessages(res));
    });

    const resetRequest = $('reset-request-form');
    if (resetRequest) onSubmit(resetRequest, async (values) => {
      const res = await call('credential-resets', { method: 'POST', json: { username: values.username } });
      if (res.status === 202) {
        const note = $('reset-requested');
        note.textContent =
          typeof res.body.message === 'string'
            ? res.body.message
            : 'If that username has a portal login with an email address, an email with a reset link and PIN is on its way.';
        note.hidden = false;
        return;
      }
      showErrors(resetRequest, problemMessages(res));
    });

    const newPassword = $('new-password-form');
    onSubmit(newPassword, async (values) => {
      const json = { session: challenge, newPassword: values.newPassword };
      if (values.newUsername) json.newUsername = values.newUsername;
      const res = await call('sessions/new-password', { method: 'POST', json });
      if (res.status === 200) {
        challenge = null;
        return signedIn(res.body, true);
      }
      if (res.status === 401 || res.status === 410) {
        challenge = null;
        clearPasswords(newPassword);
        show('signin');
        return showErrors(signin, [{ text: 'That step took too long. Please sign in again with the same password.' }]);
      }
      if (res.status === 409) return showErrors(newPassword, [{ field: 'newUsername', text: 'is already taken. Choose another.' }]);
      showErrors(newPassword, problemMessages(res));
    });

    $('sign-out').addEventListener('click', () => {
      sessionStorage.removeItem(key);
      if (offer) offer.hidden = true;
      clearErrors(signin);
      show('signin', { focus: false });
      $('username').focus();
    });

    const saved = sessionStorage.getItem(key);
    if (saved) {
      try {
        return await signedIn(JSON.parse(saved), false);
      } catch {
        sessionStorage.removeItem(key);
      }
    }
    show('signin', { focus: false });
  },

  async reset() {
    const { token, oldLink } = takeLinkToken();
    if (oldLink) return show('old-link', { focus: false });
    if (!token) return show('no-token', { focus: false });
    const form = $('reset-form');
    onSubmit(form, async (values) => {
      const json = { token, pin: values.pin, username: values.username, newPassword: values.newPassword };
      if (values.newUsername) json.newUsername = values.newUsername;
      const res = await call('credential-resets/confirm', { method: 'POST', json });
      if (res.status === 200) {
        clearPasswords(form);
        return show('done');
      }
      if (res.status === 410) return show('gone');
      if (res.status === 401) {
        return showErrors(form, [{ text: 'The username or PIN is not right. Check them and try again: after 5 wrong tries the link stops working.' }]);
      }
      if (res.status === 409) return showErrors(form, [{ field: 'newUsername', text: 'is already taken. Choose another.' }]);
      showErrors(form, problemMessages(res));
    });
    show('form', { focus: false });
  },

  async lobby() {
    const key = 'portal.lobby';
    const form = $('lobby-form');
    let timer = null;

    const end = (state) => {
      sessionStorage.removeItem(key);
      if (timer) clearInterval(timer);
      timer = null;
      $('intake-started').hidden = true;
      show(state);
    };

    const describeExpiry = (expiresAt) => {
      const minutes = Math.max(0, Math.round((Date.parse(expiresAt) - Date.now()) / 60000));
      const left = minutes === 0 ? 'in less than a minute' : minutes === 1 ? 'in 1 minute' : `in ${minutes} minutes`;
      $('intake-expiry').textContent = `at ${shortTime(expiresAt)} (${left})`;
    };

    const open = (session, focus) => {
      describeExpiry(session.expiresAt);
      show('intake', { focus });
      // A kiosk: the session clears itself at expiry so the next person never sees it.
      timer = setInterval(() => {
        if (Date.parse(session.expiresAt) <= Date.now()) end('ended');
        else describeExpiry(session.expiresAt);
      }, 15000);
    };

    onSubmit(form, async (values) => {
      // One key per sign-in: if the answer is lost on the way, the retry with the same key gets the
      // session instead of finding the one-time password used.
      const json = { masterCase: values.masterCase, lobbyPassword: values.lobbyPassword, idempotencyKey: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('') };
      let res = await call('lobby-sessions', { method: 'POST', json });
      if (res.status === 0) res = await call('lobby-sessions', { method: 'POST', json });
      clearPasswords(form);
      if (res.status === 200) {
        // Only what the page needs: never the patient id.
        const session = { lobbyToken: res.body.lobbyToken, expiresAt: res.body.expiresAt };
        sessionStorage.setItem(key, JSON.stringify(session));
        $('case-number').value = '';
        return open(session, true);
      }
      if (res.status === 401) {
        return showErrors(form, [{ text: 'The case number or lobby password is not right, or the lobby password was already used or has expired. Please ask the front desk.' }]);
      }
      showErrors(form, problemMessages(res));
    });

    $('intake-start').addEventListener('click', async () => {
      const session = JSON.parse(sessionStorage.getItem(key) || 'null');
      if (!session) return end('ended');
      const button = $('intake-start');
      button.disabled = true;
      const label = button.textContent;
      button.textContent = button.dataset.busy;
      const res = await call('lobby-sessions/current', { token: session.lobbyToken });
      button.disabled = false;
      button.textContent = label;
      if (res.status !== 200) return end('ended');
      const note = $('intake-started');
      note.textContent = `Your intake session is open until ${shortTime(res.body.expiresAt)}. Your intake forms open here.`;
      note.hidden = false;
    });

    $('lobby-end').addEventListener('click', () => {
      // End it on the server too, so the token opens nothing after the patient walks away.
      const session = JSON.parse(sessionStorage.getItem(key) || 'null');
      if (session) call('lobby-sessions/current', { method: 'DELETE', token: session.lobbyToken });
      end('signin');
      $('case-number').focus();
    });

    const saved = JSON.parse(sessionStorage.getItem(key) || 'null');
    if (saved && Date.parse(saved.expiresAt) > Date.now()) return open(saved, false);
    sessionStorage.removeItem(key);
    show('signin', { focus: false });
  },
};

/** Issue 17: "Text me a code instead": the PIN field gives way to the Code field once a code is asked for. */
function offerPhoneCode(token) {
  const offer = $('phone-code-offer');
  const send = $('phone-code-send');
  offer.hidden = false;
  send.addEventListener('click', async () => {
    send.disabled = true;
    const res = await call('invitations/phone-code', { method: 'POST', json: { token } });
    send.disabled = false;
    if (res.status !== 202) {
      $('phone-code-status').textContent = problemMessages(res)[0].text;
      return;
    }
    $('phone-code-status').textContent = res.body.message;
    send.textContent = 'Text me a new code';
    const pin = $('pin');
    pin.required = false;
    pin.closest('.field').hidden = true;
    const code = $('phoneCode');
    code.required = true;
    $('phone-code-field').hidden = false;
    code.focus();
  });
}

function codeMessage(res) {
  return typeof res.body.detail === 'string' ? res.body.detail.replace(/^The code /, '') : 'is not right.';
}

// ---------------------------------------------------------------- a proxy invitation (issue 18)

const usingExistingLogin = () => !$('login-choice').hidden && $('login-choice-existing').checked;

/**
 * A proxy invitation may add the record to a login the person already has: the same form's
 * Username and Password then name that login (POST /registrations with existingLogin).
 */
function offerExistingLogin(self) {
  const choice = $('login-choice');
  // One login for several records (relationship "self"): only the login the person already has.
  if (self) {
    $('login-choice-existing').checked = true;
    $('login-choice-new').closest('.choice').hidden = true;
    choice.querySelector('legend').textContent = 'This invitation adds a record to the login you already have. Sign in with it below.';
  }
  const form = $('register-form');
  const button = form.querySelector('button[type="submit"]');
  const password = $('password');
  const hint = $('password-hint');
  const usernameHint = $('username-hint');
  const apply = () => {
    const existing = usingExistingLogin();
    button.textContent = existing ? 'Add to my login' : 'Register';
    button.dataset.busy = existing ? 'Adding…' : 'Registering…';
    password.autocomplete = existing ? 'current-password' : 'new-password';
    if (hint) hint.hidden = existing;
    if (usernameHint) usernameHint.hidden = existing;
  };
  choice.hidden = false;
  for (const radio of choice.querySelectorAll('input[type="radio"]')) radio.addEventListener('change', apply);
  apply();
}

function withExistingLogin(json) {
  if (!usingExistingLogin()) return json;
  return { token: json.token, pin: json.pin, existingLogin: { username: json.username, password: json.password } };
}

function existingLoginMessage(res) {
  if (typeof res.body.detail === 'string') return res.body.detail;
  if (res.status === 409) return 'Your login can already open this record.';
  return 'The PIN, or the username or password of your login, is not right.';
}

function pinMessage(res) {
  return typeof res.body.detail === 'string' ? res.body.detail.replace(/^The PIN /, '') : 'is not right.';
}

if (pages[page]) pages[page]();

// Shared with the account page's script (account.js imports them; this module's own page code runs only for its pages).
export { call, show, onSubmit, showErrors, problemMessages, clearPasswords, longDate };
