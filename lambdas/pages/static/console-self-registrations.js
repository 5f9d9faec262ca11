// "Waiting for approval" (issue 19): the self-registration requests whose email is proved, oldest
// first (GET /self-registrations?status=Pending). "Approve" asks for the patient id in the
// practice system and POSTs …/approve (the record is linked, or made, and the person emailed a
// link to choose their credentials); "Reject" asks for a reason and POSTs …/reject. Every answer
// is said in words; nothing of a request stays on the page after leaving the view.
import { problemText, request, seg } from './console-api.js';
import { $, announce, busy, clearError, el, focusOn, showError, when } from './console-ui.js';

let cursor;
/** @type {any} the request a dialog is open for */
let current = null;
let openRecord = () => {};

const view = () => $('#view-self-registrations');
const fullName = (r) => `${r.firstName} ${r.lastName}`;

/** A date of birth as written (YYYY-MM-DD), shown unambiguously whatever the browser's locale. */
function birthDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso));
  if (!m) return String(iso);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toLocaleDateString(undefined, { dateStyle: 'long', timeZone: 'UTC' });
}

function item(r) {
  const nameId = `selfreg-name-${r.requestId}`;
  const field = (term, value) => [el('dt', { text: term }), el('dd', {}, value)];
  return el(
    'li',
    { className: 'selfreg-item', 'data-request-id': r.requestId },
    el('h3', { id: nameId, text: fullName(r) }),
    el(
      'dl',
      { className: 'fields' },
      ...field('Date of birth', el('time', { datetime: r.dateOfBirth, text: birthDate(r.dateOfBirth) })),
      ...field('Email', r.email),
      ...field('Phone', r.phone || '—'),
      ...field('Asked', when(r.createdAt)),
    ),
    el(
      'p',
      { className: 'slip-buttons' },
      el('button', { type: 'button', 'data-approve': r.requestId, 'aria-describedby': nameId, text: 'Approve' }),
      el('button', { type: 'button', 'data-reject': r.requestId, 'aria-describedby': nameId, className: 'danger', text: 'Reject' }),
    ),
  );
}

/** The list, from the start (or the next page with `more`). */
export async function openSelfRegistrations({ more = false, keepResult = false } = {}) {
  const alertEl = $('#selfreg-error');
  clearError(alertEl);
  if (!keepResult) $('#selfreg-result').hidden = true;
  if (!more) cursor = undefined;
  const params = new URLSearchParams({ status: 'Pending' });
  if (more && cursor) params.set('cursor', cursor);
  const res = await busy(view(), 'Loading the requests…', () => request('GET', `self-registrations?${params}`));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'see the requests waiting for approval'));
    return;
  }
  const rows = res.json.items.map(item);
  if (more) $('#selfreg-items').append(...rows);
  else $('#selfreg-items').replaceChildren(...rows);
  cursor = res.json.cursor;
  $('#selfreg-more').hidden = !cursor;
  const shown = $('#selfreg-items').children.length;
  const summary =
    shown === 0 ? 'No requests are waiting for approval.' : `${shown} ${shown === 1 ? 'request is' : 'requests are'} waiting${cursor ? '; more available' : ''}.`;
  $('#selfreg-summary').textContent = summary;
  announce(summary);
}

function requestOf(requestId) {
  const li = view().querySelector(`li[data-request-id="${CSS.escape(requestId)}"]`);
  if (!li) return null;
  const name = li.querySelector('h3')?.textContent ?? '';
  return { requestId, name, li };
}

function openDialog(kind, requestId) {
  current = requestOf(requestId);
  if (!current) return;
  const dialog = $(`#selfreg-${kind}-dialog`);
  $(`#selfreg-${kind}-name`).textContent = current.name;
  $(`#selfreg-${kind}-form`).reset();
  clearError($(`#selfreg-${kind}-error`));
  dialog.showModal();
  $(kind === 'approve' ? '#selfreg-patient-id' : '#selfreg-reason').focus();
}

function closeDialog(kind) {
  const dialog = $(`#selfreg-${kind}-dialog`);
  if (dialog.open) dialog.close();
  const back = current?.li.querySelector(`[data-${kind}]`);
  current = null;
  if (back instanceof HTMLElement) back.focus();
}

/** The outcome, kept above the list (not in a dialog that closes). */
function showResult(text, patientId) {
  $('#selfreg-result-text').textContent = text;
  const open = $('#selfreg-open-record');
  open.hidden = !patientId;
  if (patientId) {
    open.dataset.patientId = patientId;
    open.textContent = `Open the record of patient ${patientId}`;
  }
  $('#selfreg-result').hidden = false;
  announce(text);
}

/** A 409 in words: which of the API's reasons (its problem type), said for patient `patientId`. */
function conflictText(res, patientId) {
  const code = String(res.json?.type ?? '').split('/').pop();
  const words = {
    'already-registered': `Not approved: patient ${patientId} already has a portal login. If this is the same person, they can sign in or reset their password; otherwise check the patient id, or reject the request.`,
    'access-disabled': `Not approved: portal access is turned off on the record of patient ${patientId}. Turn it on first, or check the patient id.`,
    'registration-in-progress': `Not approved yet: a registration on the record of patient ${patientId} is under way right now. Try again in a minute.`,
  };
  return words[code] ?? `Not approved: ${typeof res.json?.detail === 'string' ? res.json.detail : `patient ${patientId} cannot take this request.`}`;
}

async function approve(event) {
  event.preventDefault();
  if (!current) return;
  const form = $('#selfreg-approve-form');
  const alertEl = $('#selfreg-approve-error');
  clearError(alertEl);
  const patientId = form.elements.patientId.value.trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(patientId)) {
    showError(alertEl, 'Patient id in the practice system: use 1 to 64 letters, digits, ".", "_" or "-".');
    return;
  }
  const { requestId, name } = current;
  const res = await busy(form, 'Approving…', () => request('POST', `self-registrations/${seg(requestId)}/approve`, { body: { patientId } }));
  if (res.status === 401) return;
  if (res.status === 200) {
    closeDialog('approve');
    await openSelfRegistrations({ keepResult: true });
    showResult(
      `Approved: ${name} is linked to the portal record of patient ${res.json.patientId} (${res.json.statusMessage}). We emailed them a link to choose their username and password.`,
      res.json.patientId,
    );
    focusOn($('#selfreg-result'));
    return;
  }
  const decided = res.status === 404 || (res.status === 409 && String(res.json?.type ?? '').endsWith('/already-decided'));
  if (res.status === 409 && !decided) return showError(alertEl, conflictText(res, patientId));
  if (decided) {
    closeDialog('approve');
    await openSelfRegistrations({ keepResult: true });
    showResult(`The request of ${name} is no longer waiting: it expired, or someone else approved or rejected it.`);
    focusOn($('#selfreg-result'));
    return;
  }
  showError(alertEl, problemText(res, 'approve self-registration requests', { 'body.patientId': 'Patient id in the practice system', patientId: 'Patient id in the practice system' }));
}

async function reject(event) {
  event.preventDefault();
  if (!current) return;
  const form = $('#selfreg-reject-form');
  const alertEl = $('#selfreg-reject-error');
  clearError(alertEl);
  const reason = form.elements.reason.value.trim();
  if (!reason) {
    showError(alertEl, 'Reason: say why, for the practice’s records.');
    return;
  }
  const { requestId, name } = current;
  const res = await busy(form, 'Rejecting…', () => request('POST', `self-registrations/${seg(requestId)}/reject`, { body: { reason } }));
  if (res.status === 401) return;
  if (res.status === 200 || res.status === 404 || res.status === 409) {
    closeDialog('reject');
    await openSelfRegistrations({ keepResult: true });
    showResult(
      res.status === 200
        ? `Rejected: we emailed ${name} that the request could not be approved online.`
        : `The request of ${name} is no longer waiting: it expired, or someone else approved or rejected it.`,
    );
    focusOn($('#selfreg-result'));
    return;
  }
  showError(alertEl, problemText(res, 'reject self-registration requests', { 'body.reason': 'Reason', reason: 'Reason' }));
}

/** Leaving the view (or signing out): nothing of the requests stays on the page. */
export function clearSelfRegistrations() {
  cursor = undefined;
  current = null;
  for (const kind of ['approve', 'reject']) {
    const dialog = $(`#selfreg-${kind}-dialog`);
    if (dialog.open) dialog.close();
    $(`#selfreg-${kind}-form`).reset();
  }
  $('#selfreg-items').replaceChildren();
  $('#selfreg-summary').textContent = '';
  $('#selfreg-result').hidden = true;
  $('#selfreg-more').hidden = true;
  clearError($('#selfreg-error'));
}

/** `onOpenRecord(patientId)` opens a record in the record view (console.js). */
export function setUpSelfRegistrations({ onOpenRecord }) {
  openRecord = onOpenRecord;
  $('#selfreg-items').addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('button') : null;
    if (button?.dataset.approve) openDialog('approve', button.dataset.approve);
    else if (button?.dataset.reject) openDialog('reject', button.dataset.reject);
  });
  $('#selfreg-approve-form').addEventListener('submit', (e) => void approve(e));
  $('#selfreg-reject-form').addEventListener('submit', (e) => void reject(e));
  $('#selfreg-approve-cancel').addEventListener('click', () => closeDialog('approve'));
  $('#selfreg-reject-cancel').addEventListener('click', () => closeDialog('reject'));
  // Escape closes a dialog without a choice: focus goes back to the button that opened it.
  for (const kind of ['approve', 'reject']) $(`#selfreg-${kind}-dialog`).addEventListener('cancel', (e) => {
    e.preventDefault();
    closeDialog(kind);
  });
  $('#selfreg-more').addEventListener('click', () => void openSelfRegistrations({ more: true }));
  $('#selfreg-refresh').addEventListener('click', () => void openSelfRegistrations());
  $('#selfreg-open-record').addEventListener('click', () => {
    const patientId = $('#selfreg-open-record').dataset.patientId;
    if (patientId) openRecord(patientId);
  });
}
