// The record view: every field and the status message, the edit form (with If-Match), the
// actions on the patient's access, the secrets they answer (shown once, never stored) and the
// audit trail.
import { currentSession, problemText, request, seg } from './console-api.js';
import { $, announce, busy, clearError, confirmAction, el, focusOn, showError, when, whenText } from './console-ui.js';
import { clearProxies, loadProxies, setUpProxies } from './console-proxies.js';

/** @type {any} the record on screen; null when no record is open */
let record = null;
let auditCursor;

const editLabels = {
  'body.email': 'Email',
  'body.phone': 'Phone',
  'body.masterCase': 'Master case number',
  'body.accessEnabled': 'Portal access enabled',
  'body.cases': 'Cases',
  'body.comment': 'Comment',
  'headers.if-match': 'Record version',
  'params.patientId': 'Patient id',
};

const view = () => $('#view-record');

export function openRecordView(next) {
  clearRecordView();
  record = next;
  render();
  void loadProxies(next.patientId);
  view().hidden = false;
  focusOn($('#record-heading'));
}

/** Codes of the reasons "Clear the lock" answers. */
const lockCodes = new Set(['sign-in-locked', 'sign-in-waiting']);

/** The "Can't get in?" panel: GET …/diagnosis, read again after every change to the record. */
async function loadDiagnosis() {
  const patientId = record?.patientId;
  if (!patientId) return;
  const [res, me] = await Promise.all([request('GET', `patients/${seg(patientId)}/portal/diagnosis`), request('GET', 'staff/me')]);
  if (res.status === 401 || record?.patientId !== patientId) return;
  const alertEl = $('#diagnosis-error');
  clearError(alertEl);
  if (res.status !== 200) {
    $('#diagnosis-summary').textContent = '';
    $('#diagnosis-reasons').replaceChildren();
    $('#clear-lock').hidden = true;
    showError(alertEl, problemText(res, "see why this patient can or cannot get in"));
    return;
  }
  const d = res.json;
  $('#diagnosis-summary').textContent = d.canSignIn ? 'This patient can sign in.' : 'This patient cannot sign in now.';
  $('#diagnosis-reasons').replaceChildren(...d.reasons.map((r) => el('li', { text: r.words, 'data-code': r.code })));
  const canInvite = me.status === 200 && me.json?.permissions?.canInvite === true;
  $('#clear-lock').hidden = !(canInvite && d.reasons.some((r) => lockCodes.has(r.code)));
}

async function clearLock() {
  const alertEl = $('#diagnosis-error');
  clearError(alertEl);
  if (!(await confirmAction('Clear the sign-in lock? Do this only after checking who is calling: the next sign-in attempt is let through at once.', 'Clear the lock'))) return;
  const res = await busy($('#diagnosis'), 'Clearing the lock…', () => request('DELETE', `patients/${seg(record.patientId)}/portal/sign-in-lock`));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'clear the sign-in lock'));
    return;
  }
  record = res.json;
  render();
  await loadDiagnosis();
  announce('The sign-in lock is cleared: the patient can sign in now.');
  focusOn($('#diagnosis-heading'));
}

/** Leaves the record: its secrets, slip and audit trail are removed from the page. */
export function clearRecordView() {
  record = null;
  auditCursor = undefined;
  clearSecrets();
  clearProxies();
  $('#audit').hidden = true;
  $('#audit-rows').replaceChildren();
  for (const id of ['#edit-error', '#action-error', '#audit-error']) clearError($(id));
  $('#reload-record').hidden = true;
  $('#record-fields').replaceChildren();
  $('#record-status').textContent = '';
  clearError($('#diagnosis-error'));
  $('#diagnosis-summary').textContent = '';
  $('#diagnosis-reasons').replaceChildren();
  $('#clear-lock').hidden = true;
}

export function clearSecrets() {
  $('#secret-title').textContent = '';
  $('#secret-value').textContent = '';
  $('#secret-spelled').textContent = '';
  $('#secret-expiry').textContent = '';
  $('#secret-box').hidden = true;
  for (const id of ['#slip-username', '#slip-password', '#slip-expiry', '#slip-url', '#slip-practice']) $(id).textContent = '';
  $('#slip').hidden = true;
  document.body.classList.remove('has-slip');
}

const yesNo = (v) => (v ? 'Yes' : 'No');
/** invite.delivery from SES's events (api.md "Delivery"), in the words the front desk reads. */
const deliveryWords = { Sent: 'sent', Delivered: 'delivered', Bounced: 'Bounced: check the address', Suppressed: 'Bounced: check the address', Complained: 'marked as spam by the patient', Failed: 'failed: resend it' };

/** Issue 17: whether this record can use a texted code (a valid E.164 phone, the setting on, SMS in the deployment). */
let smsSettings = null;
function phoneCodeWords(r) {
  if (!/^\+[1-9]\d{6,14}$/.test(r.phone ?? '')) return 'No: no valid phone number (E.164, e.g. +15555550123)';
  if (!smsSettings) {
    void request('GET', 'settings').then((res) => {
      smsSettings = res.status === 200 ? res.json : { failed: true };
      if (record) render();
    });
    return 'Checking…';
  }
  if (smsSettings.failed) return 'Unknown: the settings could not be read';
  if (!smsSettings.phoneCodesAvailable) return `No: ${smsSettings.phoneCodesUnavailableReason ?? 'this deployment cannot send texts'}`;
  return smsSettings.phoneCodes ? 'Yes' : 'No: turned off in the practice settings';
}

function render() {
  const r = record;
  $('#record-heading').textContent = `Patient ${r.patientId}`;
  $('#record-status').textContent = r.statusMessage;
  $('#record-status').classList.toggle('is-disabled', r.status?.access === 'Disabled');
  const rows = [
    ['Patient id', r.patientId],
    ['Username', r.username],
    ['Login id', r.accountId],
    ['Email', r.email],
    ['Phone', r.phone],
    ['Texted code instead of PIN', phoneCodeWords(r)],
    ['Master case number', r.masterCase],
    ['Portal access', r.accessEnabled ? 'Enabled' : 'Disabled'],
    ['Cases', r.cases?.length ? r.cases.join(', ') : undefined],
    ['Comment (internal)', r.comment],
    ['Registration', r.status?.registration],
    ['Invitation', r.invite?.status + (r.invite?.delivery ? ` (email ${deliveryWords[r.invite.delivery] ?? 'failed: resend it'})` : '')],
    ['Invitation sent', r.invite?.sentAt ? when(r.invite.sentAt) : undefined],
    ['Invitation sent by', r.invite?.sentBy],
    ['Invitation expires', r.invite?.expiresAt ? when(r.invite.expiresAt) : undefined],
    ['Created', when(r.createdAt)],
    ['Last changed', when(r.updatedAt)],
    ['Version', String(r.version)],
  ];
  $('#record-fields').replaceChildren(
    ...rows.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', {}, value === undefined || value === '' ? '—' : value)]),
  );
  const form = $('#edit-form');
  form.elements.email.value = r.email ?? '';
  form.elements.phone.value = r.phone ?? '';
  form.elements.masterCase.value = r.masterCase ?? '';
  form.elements.accessEnabled.checked = r.accessEnabled;
  form.elements.cases.value = (r.cases ?? []).join(', ');
  form.elements.comment.value = r.comment ?? '';
  $('#show-audit').hidden = !currentSession()?.admin;
  void loadDiagnosis();
}

/** What the edit form changes: only fields that differ; an emptied optional field is cleared (null). */
function changes(form) {
  const change = {};
  for (const name of ['email', 'phone', 'masterCase', 'comment']) {
    const value = form.elements[name].value.trim();
    const before = record[name] ?? '';
    if (value !== before) change[name] = value === '' ? null : value;
  }
  if (form.elements.accessEnabled.checked !== record.accessEnabled) change.accessEnabled = form.elements.accessEnabled.checked;
  const cases = form.elements.cases.value.split(',').map((c) => c.trim()).filter(Boolean);
  if (cases.join(',') !== (record.cases ?? []).join(',')) change.cases = cases;
  return change;
}

async function save(event) {
  event.preventDefault();
  const form = $('#edit-form');
  const alertEl = $('#edit-error');
  clearError(alertEl);
  const change = changes(form);
  if (Object.keys(change).length === 0) {
    announce('Nothing to save: no field was changed.');
    return;
  }
  const res = await busy(form, 'Saving…', () =>
    request('PUT', `patients/${seg(record.patientId)}/portal`, { body: change, ifMatch: record.version }),
  );
  if (res.status === 401) return;
  if (res.status === 200) {
    record = res.json;
    render();
    announce(`Saved. ${record.statusMessage}`);
    focusOn($('#record-status'));
    return;
  }
  if (res.status === 409) {
    $('#reload-record').hidden = false;
    showError(alertEl, 'Someone else changed this record while you were editing it. Reload the record to see their changes, then make yours again.');
    return;
  }
  showError(alertEl, problemText(res, 'change this record', editLabels));
}

async function reload() {
  const res = await busy(view(), 'Loading the record…', () => request('GET', `patients/${seg(record.patientId)}/portal`));
  if (res.status === 200) {
    openRecordView(res.json);
    announce('Record reloaded.');
  } else if (res.status !== 401) {
    showError($('#edit-error'), problemText(res, 'read this record'));
  }
}

/** Shows a secret once, large, for staff to read aloud; it lives only in this part of the page. */
function showSecret(title, value, expiresAt, note) {
  clearSecrets();
  $('#secret-title').textContent = title;
  $('#secret-value').textContent = value;
  // Screen readers read it character by character; the visible value stays as printed.
  $('#secret-spelled').textContent = `Spelled out: ${[...value.replaceAll('-', '')].join(' ')}`;
  $('#secret-expiry').textContent = `${note} Valid until ${whenText(expiresAt)}.`;
  $('#secret-box').hidden = false;
  focusOn($('#secret-box'));
}

async function showSlip(registered) {
  clearSecrets();
  const settings = await request('GET', 'settings');
  const practice = settings.status === 200 ? settings.json.practiceName : '';
  const portalUrl = settings.status === 200 ? `${settings.json.portalUrl.replace(/\/$/, '')}/portal/login` : '';
  $('#slip-practice').textContent = practice;
  $('#slip-url').textContent = portalUrl;
  $('#slip-username').textContent = registered.username;
  $('#slip-password').textContent = registered.temporaryPassword;
  $('#slip-expiry').textContent = whenText(registered.expiresAt);
  $('#slip').hidden = false;
  document.body.classList.add('has-slip');
  focusOn($('#slip'));
}

/** The actions: what each calls, how it is confirmed, and what it shows. */
const actions = {
  invite: {
    doing: 'invite this patient',
    progress: 'Sending the invitation…',
    // The address it will email, to check with the patient before it goes (issue 15 item 7).
    confirm: () => [record.email ? `Email an invitation to ${record.email}? Check the address with the patient first.` : 'Invite this patient? The record has no email address yet.', 'Send invitation'],
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/invitation`),
    done: (res) => {
      record = res.json.record;
      render();
      const mail = res.json.delivery === 'Failed' ? 'The email could not be sent yet: use Resend invitation.' : 'The invitation email is on its way.';
      showSecret('Invitation PIN', res.json.pin, res.json.expiresAt, `${mail} Give this PIN to the patient in person; it is never emailed.`);
      announce('Invitation sent.');
    },
  },
  resend: {
    doing: 'resend the invitation',
    progress: 'Resending the invitation…',
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/invitation/resend`),
    done: (res) => {
      record = res.json.record;
      render();
      announce(`Invitation resent with a new link; the PIN is unchanged. It expires ${whenText(res.json.expiresAt)}.`);
      focusOn($('#record-status'));
    },
  },
  cancel: {
    doing: 'cancel the invitation',
    progress: 'Cancelling the invitation…',
    confirm: ['Cancel this invitation? The emailed link and the PIN stop working.', 'Cancel invitation'],
    call: () => request('DELETE', `patients/${seg(record.patientId)}/portal/invitation`),
    done: (res) => {
      record = res.json;
      clearSecrets();
      render();
      announce('Invitation cancelled.');
      focusOn($('#record-status'));
    },
  },
  pin: {
    doing: "see this patient's PIN",
    progress: 'Fetching the PIN…',
    call: () => request('GET', `patients/${seg(record.patientId)}/portal/access-code`),
    done: (res) => showSecret('Invitation PIN', res.json.pin, res.json.expiresAt, 'Give this PIN to the patient in person.'),
    notFound: 'No invitation is pending, so there is no PIN to show.',
  },
  register: {
    doing: 'register this patient',
    progress: 'Registering the patient…',
    confirm: [
      "Register this patient with a temporary password? Any password they have now stops working and they are signed out everywhere.",
      'Register Patient',
    ],
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/registration`),
    done: async (res) => {
      record = res.json.record;
      render();
      await showSlip(res.json);
      announce('Patient registered. Print the slip or read the temporary password aloud.');
    },
  },
  lobby: {
    doing: 'create a lobby password',
    progress: 'Creating a lobby password…',
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/lobby-password`),
    done: (res) =>
      showSecret('Lobby password', res.json.lobbyPassword, res.json.expiresAt, `For intake paperwork only: the patient enters case number ${res.json.masterCase} and this password at the lobby kiosk.`),
  },
  reset: {
    doing: "reset this patient's credentials",
    progress: 'Sending the reset email…',
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/credential-reset`),
    done: (res) => {
      const sent = res.json?.delivery === 'Failed' ? 'The reset email could not be sent; try again.' : 'Reset email sent with a link and PIN.';
      announce(`${sent} It expires ${whenText(res.json?.expiresAt)}.`);
      focusOn($('#console-status'));
    },
  },
  revoke: {
    doing: "revoke this patient's access",
    progress: 'Revoking access…',
    confirm: ['Revoke portal access? The patient is signed out everywhere now and cannot sign in until access is turned back on.', 'Revoke access'],
    call: () => request('POST', `patients/${seg(record.patientId)}/portal/revoke`),
    done: (res) => {
      record = res.json;
      clearSecrets();
      render();
      announce(`Access revoked. ${record.statusMessage}`);
      focusOn($('#record-status'));
    },
  },
};

async function runAction(name) {
  const action = actions[name];
  const alertEl = $('#action-error');
  clearError(alertEl);
  const confirm = typeof action.confirm === 'function' ? action.confirm() : action.confirm;
  if (confirm && !(await confirmAction(...confirm))) return;
  const res = await busy($('#actions'), action.progress, action.call);
  if (res.status === 401) return;
  if (res.status >= 200 && res.status < 300) {
    await action.done(res);
    return;
  }
  announce('');
  showError(alertEl, res.status === 404 && action.notFound ? action.notFound : problemText(res, action.doing));
}

async function loadAudit(more) {
  const alertEl = $('#audit-error');
  clearError(alertEl);
  const query = more && auditCursor ? `?cursor=${encodeURIComponent(auditCursor)}` : '';
  const res = await busy($('#audit'), 'Loading the audit trail…', () => request('GET', `patients/${seg(record.patientId)}/portal/audit${query}`));
  if (res.status === 401) return;
  $('#audit').hidden = false;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'see the audit trail'));
    return;
  }
  const rows = res.json.items.map((item) =>
    el(
      'tr',
      {},
      el('td', {}, when(item.at)),
      el('td', { text: item.actor }),
      el('td', { text: item.action }),
      el('td', { text: describe(item.detail) }),
    ),
  );
  if (more) $('#audit-rows').append(...rows);
  else $('#audit-rows').replaceChildren(...rows);
  auditCursor = res.json.cursor;
  $('#audit-more').hidden = !auditCursor;
  $('#audit-empty').hidden = $('#audit-rows').children.length > 0;
  announce(`Audit trail: ${$('#audit-rows').children.length} entries shown${auditCursor ? ', more available' : ''}.`);
  if (!more) focusOn($('#audit-heading'));
}

/** An audit entry's detail (field names and outcomes, never PHI) as one line. */
function describe(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

export function setUpRecordView({ onBack }) {
  $('#edit-form').addEventListener('submit', save);
  $('#reload-record').addEventListener('click', () => void reload());
  $('#refresh-record').addEventListener('click', () => void reload());
  $('#clear-lock').addEventListener('click', () => void clearLock());
  setUpProxies();
  for (const button of document.querySelectorAll('[data-action]')) {
    button.addEventListener('click', () => void runAction(button.dataset.action));
  }
  $('#show-audit').addEventListener('click', () => void loadAudit(false));
  $('#audit-more').addEventListener('click', () => void loadAudit(true));
  $('#print-slip').addEventListener('click', () => window.print());
  $('#record-back').addEventListener('click', () => {
    view().hidden = true;
    clearRecordView();
    onBack();
  });
}
