// The account page's script (issue 15 item 5): the signed-in patient's login, the records it
// reaches, password and username changes, and the last sign-ins. The session is the tab's access
// token that the sign-in page keeps in sessionStorage; without a good one the page says so.
// Issue 18: each record opens through GET /account/records/{patientId} (refused once the access
// ended), and a patient sees, ends and invites the people who can act for them; a new proxy's PIN
// is shown once and kept nowhere.
import { call, clearPasswords, longDate, onSubmit, problemMessages, show, showErrors } from './portal.js';

const key = 'portal.session';
const $ = (id) => document.getElementById(id);

function session() {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function end() {
  sessionStorage.removeItem(key);
  clearPin();
  $('record-opened').hidden = true;
  clearPasswords(document);
  show('ended', { focus: false });
}

function item(parts) {
  const li = document.createElement('li');
  const text = document.createElement('span');
  text.textContent = parts.filter(Boolean).join(' · ');
  li.append(text);
  return li;
}

const scopeWords = (scope) => (scope === 'full' ? 'full access' : 'limited access');

/** The records this login reaches, each with a button that opens it. */
function showRecords(account) {
  const list = $('account-records');
  // Before issue 18 the answer had no records: the login's own cases stood for its one record.
  const records = Array.isArray(account.records) ? account.records : [{ role: 'self', cases: account.cases || [] }];
  $('records-none').hidden = records.length > 0;
  // One login for several records of the same person: each own record is named by its id.
  const several = records.filter((r) => r.role !== 'proxy').length > 1;
  list.replaceChildren(
    ...records.map((r) => {
      const own = r.role !== 'proxy';
      const whose = own ? 'Your own record' : `A record you act for${r.relationship ? ` as ${r.relationship}` : ''}`;
      const scope = own ? '' : scopeWords(r.scope);
      const until = r.until ? `until ${longDate(r.until)}` : '';
      const cases = !own && r.scope === 'limited' ? '' : Array.isArray(r.cases) && r.cases.length > 0 ? `cases ${r.cases.join(', ')}` : 'no cases yet';
      const li = item([whose, r.patientId && (!own || several) ? `record ${r.patientId}` : '', scope, until, cases]);
      if (r.patientId) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'secondary';
        button.dataset.patientId = r.patientId;
        button.dataset.own = own ? 'yes' : 'no';
        button.textContent = own ? `Open your record${several ? ` ${r.patientId}` : ''}` : `Open record ${r.patientId}`;
        li.append(button);
      }
      return li;
    }),
  );
}

function alertText(box, text) {
  const p = document.createElement('p');
  p.textContent = text;
  box.replaceChildren(p);
  box.focus();
}

/** GET /account/records/{patientId}: the record, or words saying this login may not open it any more. */
async function openRecord(button) {
  const current = session();
  if (!current) return end();
  const patientId = button.dataset.patientId;
  const box = $('records-error');
  box.replaceChildren();
  $('record-opened').hidden = true;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Opening…';
  const res = await call(`account/records/${encodeURIComponent(patientId)}`, { token: current.accessToken });
  button.disabled = false;
  button.textContent = label;
  if (res.status === 401) return end();
  if (res.status === 403 || res.status === 404) {
    alertText(box, 'You can no longer open this record: the access to it has ended. If you think this is a mistake, ask the patient or call the practice’s front desk.');
    // The list is read again so that the ended record leaves it; the words stay.
    const account = await call('account', { token: current.accessToken });
    if (account.status === 200) showRecords(account.body);
    return;
  }
  if (res.status !== 200) return alertText(box, problemMessages(res)[0].text);
  const r = res.body || {};
  const own = button.dataset.own === 'yes';
  $('record-opened-heading').textContent = own ? `Your record${button.textContent.endsWith(patientId) ? ` ${patientId}` : ''}` : `Record ${patientId}`;
  const rows = [
    ['Record', r.patientId || patientId],
    ['You are', own ? 'the patient' : r.relationship ? `${r.relationship}, acting for the patient` : 'acting for the patient'],
    ['Access', own ? 'your own' : r.scope ? scopeWords(r.scope) : ''],
    ['Until', r.until ? longDate(r.until) : ''],
    ['Cases', r.scope === 'limited' && !own ? 'not shown with limited access' : Array.isArray(r.cases) ? (r.cases.length > 0 ? r.cases.join(', ') : 'none yet') : ''],
  ].filter(([, v]) => v);
  $('record-opened-fields').replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }),
  );
  $('record-opened').hidden = false;
  $('record-opened').focus();
}

$('account-records').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-patient-id]') : null;
  if (button) openRecord(button);
});

// ---------------------------------------------------------------- people who can act for you

const statusWords = { Invited: 'invited, has not signed up yet', Active: 'can act for you now', Ended: 'access ended' };

/** GET /account/proxies: shown only where it answers (a login that is a patient itself). */
async function showProxies(token, hasOwnRecord) {
  const box = $('proxies');
  if (!hasOwnRecord) {
    box.hidden = true;
    return;
  }
  const res = await call('account/proxies', { token });
  if (res.status !== 200 || !Array.isArray(res.body.items)) {
    box.hidden = true;
    return;
  }
  const items = res.body.items;
  $('proxy-list').replaceChildren(
    ...items.map((p) => {
      const until = p.until ? `until ${longDate(p.until)}` : 'no end date';
      const li = item([`${p.name}${p.relationship ? ` (${p.relationship})` : ''}`, scopeWords(p.scope), until, statusWords[p.status] || p.status]);
      if (p.status !== 'Ended') {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'danger';
        button.dataset.proxyId = p.proxyId;
        button.dataset.name = p.name;
        button.textContent = `End access for ${p.name}`;
        li.append(button);
      }
      return li;
    }),
  );
  $('proxy-none').hidden = items.length > 0;
  box.hidden = false;
}

/** The page's own <dialog>: resolves true only when "End access" is chosen. */
function confirmEnd(name) {
  const dialog = $('end-dialog');
  $('end-message').textContent = `${name} will no longer be able to open your record. This happens at once, even if they are signed in now. To give them access again you would invite them again.`;
  const previous = document.activeElement;
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener('close', onClose);
      $('end-confirm').removeEventListener('click', onOk);
      if (dialog.open) dialog.close();
      if (previous instanceof HTMLElement) previous.focus();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onClose = () => done(false);
    $('end-confirm').addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('end-cancel').focus();
  });
}

$('end-cancel').addEventListener('click', () => $('end-dialog').close());

$('proxy-list').addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-proxy-id]') : null;
  if (!button) return;
  const box = $('proxies-error');
  box.replaceChildren();
  $('proxy-changed').hidden = true;
  const name = button.dataset.name;
  if (!(await confirmEnd(name))) return;
  const current = session();
  if (!current) return end();
  button.disabled = true;
  button.textContent = 'Ending access…';
  const res = await call(`account/proxies/${encodeURIComponent(button.dataset.proxyId)}`, { method: 'DELETE', token: current.accessToken });
  if (res.status === 401) return end();
  if (res.status !== 200) {
    button.disabled = false;
    button.textContent = `End access for ${name}`;
    return alertText(box, problemMessages(res)[0].text);
  }
  await showProxies(current.accessToken, true);
  const note = $('proxy-changed');
  note.textContent = `${name} can no longer act for you.`;
  note.hidden = false;
  note.setAttribute('tabindex', '-1');
  note.focus();
});

function clearPin() {
  $('proxy-pin-value').textContent = '';
  $('proxy-pin-spelled').textContent = '';
  $('proxy-pin-words').textContent = '';
  $('proxy-pin').hidden = true;
}

$('proxy-pin-done').addEventListener('click', () => {
  clearPin();
  $('invite-heading').setAttribute('tabindex', '-1');
  $('invite-heading').focus();
});

/** The end of the chosen day, in the patient's own time zone, as the ISO instant the API takes. */
function endOfDay(date) {
  const at = new Date(`${date}T23:59:59`);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

const proxyForm = $('proxy-form');
onSubmit(proxyForm, async (values) => {
  clearPin();
  $('proxy-changed').hidden = true;
  const current = session();
  if (!current) return end();
  const json = { name: values.name, email: values.email, relationship: values.relationship, scope: proxyForm.elements.scope.value === 'full' ? 'full' : 'limited' };
  if (values.until) {
    const until = endOfDay(values.until);
    if (!until || Date.parse(until) <= Date.now()) return showErrors(proxyForm, [{ field: 'until', text: 'must be today or a later day' }]);
    json.until = until;
  }
  const res = await call('account/proxies', { method: 'POST', token: current.accessToken, json });
  if (res.status === 401) return end();
  if (res.status !== 201) return showErrors(proxyForm, problemMessages(res));
  for (const input of proxyForm.querySelectorAll('input:not([type=radio])')) input.value = '';
  proxyForm.elements.scope.value = 'limited';
  $('proxy-pin-value').textContent = res.body.pin;
  $('proxy-pin-spelled').textContent = `Spelled out: ${[...String(res.body.pin)].join(' ')}`;
  const mail = res.body.delivery === 'Failed' ? `The email to ${json.name} could not be sent yet: please call the practice’s front desk.` : `We emailed ${json.name} a link.`;
  $('proxy-pin-words').textContent = `${mail} Give them this PIN yourself: they need it with the link. Both work until ${longDate(res.body.expiresAt)}.`;
  $('proxy-pin').hidden = false;
  $('proxy-pin').focus();
  await showProxies(current.accessToken, true);
});

async function showSignIns(token) {
  const res = await call('account/sign-ins', { token });
  const items = res.status === 200 && Array.isArray(res.body.items) ? res.body.items : [];
  // A proxy's sign-in names the proxy (issue 18 item 5): whoever it was, the patient sees it.
  const who = (s) => s.name || s.proxyName || s.actor || '';
  $('sign-ins').replaceChildren(...items.map((s) => item([longDate(s.at), who(s), s.words, s.from ? `from ${s.from}` : ''])));
  $('sign-ins-none').hidden = items.length > 0;
}

async function load(focus) {
  const current = session();
  if (!current || !current.accessToken) return end();
  const res = await call('account', { token: current.accessToken });
  if (res.status !== 200) return end();
  $('account-username').textContent = res.body.username;
  const email = $('account-email');
  email.textContent = res.body.email ? `Emails go to ${res.body.email}.` : '';
  email.hidden = !res.body.email;
  document.body.dataset.hasEmail = res.body.email ? 'yes' : 'no';
  showRecords(res.body);
  const records = Array.isArray(res.body.records) ? res.body.records : [];
  await Promise.all([showSignIns(current.accessToken), showProxies(current.accessToken, records.some((r) => r.role === 'self'))]);
  show('signed-in', { focus });
}

/** PUT /account/credentials; on success keeps the fresh token (every other session has ended). */
function wire(form, note, describe) {
  onSubmit(form, async (values) => {
    note.hidden = true;
    const current = session();
    if (!current) return end();
    const res = await call('account/credentials', { method: 'PUT', token: current.accessToken, json: values });
    clearPasswords(form);
    if (res.status === 200 && res.body.accessToken) {
      sessionStorage.setItem(key, JSON.stringify({ accessToken: res.body.accessToken }));
      for (const input of form.querySelectorAll('input')) if (input.type !== 'checkbox') input.value = '';
      await load(false);
      const notice = document.body.dataset.hasEmail === 'yes' ? ' We emailed you a notice.' : '';
      note.textContent = `${describe(values)} Every other device was signed out.${notice}`;
      note.hidden = false;
      return;
    }
    if (res.status === 401 && res.body.errors === undefined && !String(res.body.type || '').endsWith('invalid-credentials')) return end();
    if (res.status === 409) return showErrors(form, [{ field: 'newUsername', text: 'is already taken. Choose another.' }]);
    showErrors(form, problemMessages(res));
  });
}

wire($('password-form'), $('password-changed'), () => 'Your password is changed.');
wire($('username-form'), $('username-changed'), (v) => `Your username is now ${v.newUsername}.`);

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(key);
  clearPin();
  location.replace('login');
});

load(false);
