// Admins only: the Staff page. The staff users (GET /staff), a new one with its temporary
// password shown once on a printable slip (POST /staff), disable or enable (PUT /staff/{id}),
// a lost authenticator (POST /staff/{id}/mfa-reset), and the permissions editor below the list.
import { loadPermissionsOf } from './console-admin.js';
import { problemText, request, seg } from './console-api.js';
import { $, announce, busy, clearError, confirmAction, el, focusOn, showError, whenText } from './console-ui.js';

const createLabels = { 'body.username': 'Username', 'body.email': 'Email', 'body.role': 'Role' };

/** A button whose accessible name says whom it acts on ("Disable alice"); the visible text stays short. */
const rowButton = (label, username, action, extra = {}) =>
  el('button', { type: 'button', 'data-staff-action': action, 'data-staff-id': username, ...extra }, label, el('span', { className: 'visually-hidden', text: ` ${username}` }));

function permissionsText(p) {
  if (!p) return '—';
  const parts = [p.canInvite ? 'Can invite' : 'Cannot invite'];
  if (p.autoInvite) parts.push('invites automatically');
  return parts.join('; ');
}

function row(user) {
  const admin = Array.isArray(user.roles) && user.roles.includes('admin');
  return el(
    'tr',
    { 'data-staff-row': user.username },
    el('th', { scope: 'row', text: user.username }),
    el('td', { text: user.email ?? '—' }),
    el('td', { text: admin ? 'Administrator' : 'Staff' }),
    el('td', { text: user.enabled ? 'Enabled' : 'Disabled' }),
    el('td', { text: user.mfaEnrolled ? 'Set up' : 'Not set up' }),
    el('td', { text: permissionsText(user.permissions) }),
    el(
      'td',
      { className: 'row-actions' },
      user.enabled ? rowButton('Disable', user.username, 'disable', { className: 'danger' }) : rowButton('Enable', user.username, 'enable'),
      rowButton('Reset authenticator', user.username, 'mfa-reset'),
      rowButton('Permissions', user.username, 'permissions'),
    ),
  );
}

/** Loads the list; `quiet` keeps focus where it is (after an action on a row). */
async function loadStaff(quiet = false) {
  const alertEl = $('#staff-error');
  clearError(alertEl);
  const res = await busy($('#view-staff'), 'Loading staff users…', () => request('GET', 'staff'));
  if (res.status === 401) return;
  if (res.status !== 200 || !Array.isArray(res.json?.items)) {
    showError(alertEl, problemText(res, 'see the staff users'));
    return;
  }
  const items = res.json.items;
  $('#staff-rows').replaceChildren(...items.map(row));
  $('#staff-table').hidden = items.length === 0;
  const summary = items.length === 1 ? '1 staff user.' : `${items.length} staff users.`;
  $('#staff-summary').textContent = summary;
  if (!quiet) announce(summary);
}

export async function openStaff() {
  await loadStaff();
}

async function rowAction(action, username) {
  const alertEl = $('#staff-error');
  clearError(alertEl);
  if (action === 'permissions') {
    await loadPermissionsOf(username);
    return;
  }
  let res;
  if (action === 'disable') {
    const ok = await confirmAction(`Disable ${username}? They are signed out at once and cannot sign in until an administrator enables them again.`, 'Disable');
    if (!ok) return;
    res = await busy($('#staff-table'), `Disabling ${username}…`, () => request('PUT', `staff/${seg(username)}`, { body: { enabled: false } }));
  } else if (action === 'enable') {
    res = await busy($('#staff-table'), `Enabling ${username}…`, () => request('PUT', `staff/${seg(username)}`, { body: { enabled: true } }));
  } else if (action === 'mfa-reset') {
    const ok = await confirmAction(
      `Reset the authenticator of ${username}? Do this only after checking who asked. They set up an authenticator app again at their next sign-in.`,
      'Reset authenticator',
    );
    if (!ok) return;
    res = await busy($('#staff-table'), `Resetting the authenticator of ${username}…`, () => request('POST', `staff/${seg(username)}/mfa-reset`));
  } else {
    return;
  }
  if (res.status === 401) return;
  if (res.status !== 200) {
    const doing = { disable: `disable ${username}`, enable: `enable ${username}`, 'mfa-reset': `reset the authenticator of ${username}` }[action];
    showError(alertEl, res.status === 404 ? `There is no staff user "${username}".` : problemText(res, doing));
    return;
  }
  const done = {
    disable: `${username} is disabled and signed out.`,
    enable: `${username} is enabled and can sign in again.`,
    'mfa-reset': `The authenticator of ${username} is reset: they set one up again at their next sign-in.`,
  }[action];
  await loadStaff(true);
  announce(done);
}

async function createStaff(event) {
  event.preventDefault();
  const form = $('#staff-create-form');
  const alertEl = $('#staff-create-error');
  clearError(alertEl);
  const username = form.elements.username.value.trim();
  const email = form.elements.email.value.trim();
  const role = form.elements.role.value === 'admin' ? 'admin' : 'staff';
  if (!username) return showError(alertEl, 'Username: enter the name they will sign in with.');
  if (!email) return showError(alertEl, 'Email: enter their work address.');
  const res = await busy(form, 'Creating the staff user…', () => request('POST', 'staff', { body: { username, email, role } }));
  if (res.status === 401) return;
  if (res.status === 409) return showError(alertEl, `Username: "${username}" is already taken. Choose another.`);
  if (res.status !== 201 || !res.json?.temporaryPassword) return showError(alertEl, problemText(res, 'create staff users', createLabels));
  form.reset();
  showSlip(res.json);
  await loadStaff(true);
  announce(`Staff user ${res.json.username} created. Their temporary password is shown once, below the heading.`);
  focusOn($('#staff-slip'));
}

function showSlip(created) {
  $('#staff-slip-url').textContent = `${location.origin}${location.pathname}`;
  $('#staff-slip-username').textContent = created.username;
  $('#staff-slip-password').textContent = created.temporaryPassword;
  $('#staff-slip-expiry').textContent = whenText(created.expiresAt);
  $('#staff-slip').hidden = false;
  document.body.classList.add('has-slip');
}

async function copyPassword() {
  const value = $('#staff-slip-password').textContent ?? '';
  try {
    await navigator.clipboard.writeText(value);
    announce('Temporary password copied. Paste it only where they will read it, then clear it.');
  } catch {
    // No clipboard permission: select it, so Ctrl+C (or the phone's Copy) takes it.
    const range = document.createRange();
    range.selectNodeContents($('#staff-slip-password'));
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    announce('The temporary password is selected: press Ctrl+C to copy it.');
  }
}

/** Leaves the Staff page: the temporary password is removed from the page. */
export function clearStaffView() {
  for (const id of ['#staff-slip-url', '#staff-slip-username', '#staff-slip-password', '#staff-slip-expiry']) $(id).textContent = '';
  $('#staff-slip').hidden = true;
  document.body.classList.remove('has-slip');
  $('#staff-create-form').reset();
  clearError($('#staff-create-error'));
  clearError($('#staff-error'));
}

export function setUpStaffView() {
  $('#staff-create-form').addEventListener('submit', (e) => void createStaff(e));
  $('#staff-rows').addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('[data-staff-action]') : null;
    if (button) void rowAction(button.dataset.staffAction, button.dataset.staffId);
  });
  $('#staff-slip-print').addEventListener('click', () => window.print());
  $('#staff-slip-copy').addEventListener('click', () => void copyPassword());
  $('#staff-slip-done').addEventListener('click', () => {
    clearStaffView();
    announce('The temporary password is no longer shown.');
    focusOn($('#staff-heading'));
  });
}


