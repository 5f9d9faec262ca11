// The account page's script (issue 15 item 5): the signed-in patient's login, the records it
// reaches, password and username changes, and the last sign-ins. The session is the tab's access
// token that the sign-in page keeps in sessionStorage; without a good one the page says so.
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
  clearPasswords(document);
  show('ended', { focus: false });
}

function item(parts) {
  const li = document.createElement('li');
  li.textContent = parts.filter(Boolean).join(' · ');
  return li;
}

function showRecords(account) {
  const list = $('account-records');
  const records = Array.isArray(account.records) && account.records.length > 0 ? account.records : [{ role: 'self', cases: account.cases || [] }];
  list.replaceChildren(
    ...records.map((r) => {
      const whose = r.role === 'proxy' ? `Someone you act for${r.relationship ? ` (${r.relationship})` : ''}` : 'Your own record';
      const scope = r.role === 'proxy' && r.scope ? `${r.scope === 'full' ? 'full' : 'limited'} access` : '';
      const until = r.until ? `until ${longDate(r.until)}` : '';
      const cases = Array.isArray(r.cases) && r.cases.length > 0 ? `cases ${r.cases.join(', ')}` : 'no cases yet';
      return item([whose, scope, until, cases]);
    }),
  );
}

async function showSignIns(token) {
  const res = await call('account/sign-ins', { token });
  const items = res.status === 200 && Array.isArray(res.body.items) ? res.body.items : [];
  $('sign-ins').replaceChildren(...items.map((s) => item([longDate(s.at), s.words, s.from ? `from ${s.from}` : ''])));
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
  await showSignIns(current.accessToken);
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
  location.replace('login');
});

load(false);
