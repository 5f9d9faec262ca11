// The staff console: one page, vanilla modules. This module switches between signed out and
// signed in and between views, shows who is signed in, and runs the patient search;
// console-sign-in.js walks the sign-in steps, console-record.js, console-admin.js and
// console-staff.js hold the rest.
import { currentSession, endSession, problemText, request, restoreSession, seg, startSession, whenSessionEnds } from './console-api.js';
import { clearAdminViews, openSettings, setUpAdminViews } from './console-admin.js';
import { clearRecordView, openRecordView, setUpRecordView } from './console-record.js';
import { clearSelfRegistrations, openSelfRegistrations, setUpSelfRegistrations } from './console-self-registrations.js';
import { resetSignIn, setUpSignIn } from './console-sign-in.js';
import { clearStaffView, openStaff, setUpStaffView } from './console-staff.js';
import { $, announce, busy, clearError, el, focusOn, showError, whenText } from './console-ui.js';

const views = ['#view-patients', '#view-record', '#view-settings', '#view-staff', '#view-self-registrations'];
let searchCursor;
let searchQuery = '';
let searchSince = '';

function showView(id) {
  for (const v of views) $(v).hidden = v !== id;
  for (const b of document.querySelectorAll('[data-view]')) {
    if (`#view-${b.dataset.view}` === id) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
}

function showSignedIn() {
  const session = currentSession();
  $('#view-sign-in').hidden = true;
  $('#signed-in').hidden = false;
  $('#who').textContent = session.username;
  $('#who-role').textContent = '';
  $('#who-permissions').textContent = '';
  showAdminViews(session.admin);
  showView('#view-patients');
  focusOn($('#patients-heading'));
  void showWhoIAm();
}

function showAdminViews(admin) {
  for (const node of document.querySelectorAll('[data-admin-only]')) node.hidden = !admin;
}

/** The signed-in user's own role and permissions, as the service holds them (GET /staff/me). */
async function showWhoIAm() {
  const res = await request('GET', 'staff/me');
  if (res.status !== 200 || !res.json) return;
  const me = res.json;
  const admin = Array.isArray(me.roles) && me.roles.includes('admin');
  $('#who').textContent = me.username;
  $('#who-role').textContent = `Role: ${admin ? 'administrator' : 'staff'}`;
  const can = me.permissions?.canInvite ? 'can invite and register patients' : 'cannot invite or register patients';
  const auto = me.permissions?.autoInvite ? '; invites automatically when signing a note' : '';
  $('#who-permissions').textContent = `Permissions: ${can}${auto}.`;
  showAdminViews(admin);
  // "Waiting for approval" only for those who may approve (invite permission; the admin role may always).
  for (const node of document.querySelectorAll('[data-invite-only]')) node.hidden = !(admin || me.permissions?.canInvite);
}

/** Back to sign-in: everything a signed-in person saw leaves the page. */
function showSignIn(note) {
  clearRecordView();
  clearSelfRegistrations();
  for (const node of document.querySelectorAll('[data-invite-only]')) node.hidden = true;
  clearAdminViews();
  clearStaffView();
  $('#search-form').reset();
  $('#open-form').reset();
  $('#search-results').hidden = true;
  $('#results').replaceChildren();
  $('#create-offer').hidden = true;
  for (const id of ['#search-error', '#open-error']) clearError($(id));
  $('#signed-in').hidden = true;
  $('#view-sign-in').hidden = false;
  $('#who').textContent = '';
  $('#who-role').textContent = '';
  $('#who-permissions').textContent = '';
  resetSignIn();
  const noteEl = $('#sign-in-note');
  noteEl.textContent = note ?? '';
  noteEl.hidden = !note;
  announce(note ?? '');
  // On first load focus stays where the browser puts it; after a sign-out or an ended session it moves here.
  if (note) focusOn($('#sign-in-heading'));
}

function signOut() {
  endSession();
  showSignIn('You have signed out.');
}

async function search(event, more = false) {
  event?.preventDefault();
  const form = $('#search-form');
  const alertEl = $('#search-error');
  clearError(alertEl);
  if (!more) {
    searchQuery = form.elements.query.value.trim();
    searchSince = form.elements.registeredSince.value;
    searchCursor = undefined;
  }
  const params = new URLSearchParams();
  if (searchQuery) params.set('query', searchQuery);
  if (searchSince) params.set('registeredSince', searchSince);
  if (more && searchCursor) params.set('cursor', searchCursor);
  const qs = params.toString();
  const res = await busy($('#view-patients'), 'Searching…', () => request('GET', `patients${qs ? `?${qs}` : ''}`));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'search patients', { 'query.query': 'Search', 'query.cursor': 'More results', 'query.registeredSince': 'Registered since' }));
    return;
  }
  const rows = res.json.items.map((r) =>
    el(
      'li',
      { className: 'result' },
      el('button', { type: 'button', className: 'link', 'data-patient-id': r.patientId, text: `Patient ${r.patientId}` }),
      el('span', { className: 'result-status', text: r.statusMessage }),
      el('span', { className: 'result-detail', text: [r.username, r.email, r.masterCase, r.registeredAt && `registered ${whenText(r.registeredAt)}`].filter(Boolean).join(' · ') }),
    ),
  );
  if (more) $('#results').append(...rows);
  else $('#results').replaceChildren(...rows);
  searchCursor = res.json.cursor;
  $('#search-more').hidden = !searchCursor;
  $('#search-results').hidden = false;
  const shown = $('#results').children.length;
  const summary = shown === 0 ? 'No patients found.' : `${shown} ${shown === 1 ? 'patient' : 'patients'} shown${searchCursor ? '; more available' : ''}.`;
  $('#search-summary').textContent = summary;
  // Focus moves to the summary, so it is read out; after "More results" focus stays on the button.
  if (more) announce(summary);
  else focusOn($('#search-summary'));
}

async function openRecord(patientId, alertEl) {
  const res = await busy($('#view-patients'), 'Opening the record…', () => request('GET', `patients/${seg(patientId)}/portal`));
  if (res.status === 401) return;
  if (res.status === 200) {
    showView('#view-record');
    openRecordView(res.json);
    announce(`Record of patient ${patientId} opened.`);
    return;
  }
  if (res.status === 404) {
    $('#create-patient-id').textContent = patientId;
    $('#create-offer').hidden = false;
    $('#create-record').dataset.patientId = patientId;
    showError(alertEl, `There is no portal record for patient ${patientId}.`);
    return;
  }
  showError(alertEl, problemText(res, 'read this record', { 'params.patientId': 'Patient id' }));
}

async function openById(event) {
  event.preventDefault();
  const alertEl = $('#open-error');
  clearError(alertEl);
  $('#create-offer').hidden = true;
  const patientId = $('#open-form').elements.patientId.value.trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(patientId)) {
    showError(alertEl, 'Patient id: use 1 to 64 letters, digits, ".", "_" or "-".');
    return;
  }
  await openRecord(patientId, alertEl);
}

async function createRecord() {
  const alertEl = $('#open-error');
  const patientId = $('#create-record').dataset.patientId;
  if (!patientId) return;
  clearError(alertEl);
  const res = await busy($('#create-offer'), 'Creating the record…', () => request('PUT', `patients/${seg(patientId)}/portal`, { body: {} }));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'create this record', { 'params.patientId': 'Patient id' }));
    return;
  }
  $('#create-offer').hidden = true;
  showView('#view-record');
  openRecordView(res.json);
  announce(`Record of patient ${patientId} created. Add the email and cases, then save.`);
}

function setUp() {
  whenSessionEnds(() => showSignIn('Your session has ended. Sign in again.'));
  setUpSignIn((accessToken) => {
    startSession(accessToken);
    announce('Signed in.');
    showSignedIn();
  });
  $('#sign-out').addEventListener('click', signOut);
  $('#search-form').addEventListener('submit', (e) => void search(e));
  $('#search-more').addEventListener('click', () => void search(undefined, true));
  $('#results').addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('[data-patient-id]') : null;
    if (button) void openRecord(button.dataset.patientId, $('#search-error'));
  });
  $('#open-form').addEventListener('submit', (e) => void openById(e));
  $('#create-record').addEventListener('click', () => void createRecord());
  $('#confirm-cancel').addEventListener('click', () => $('#confirm-dialog').close());
  for (const b of document.querySelectorAll('[data-view]')) {
    b.addEventListener('click', () => {
      clearRecordView();
      clearStaffView();
      clearSelfRegistrations();
      const id = `#view-${b.dataset.view}`;
      showView(id);
      if (b.dataset.view === 'settings') void openSettings();
      if (b.dataset.view === 'self-registrations') void openSelfRegistrations();
      if (b.dataset.view === 'staff') void openStaff();
      focusOn($(`${id} h2`));
    });
  }
  setUpRecordView({
    onBack: () => {
      showView('#view-patients');
      focusOn($('#patients-heading'));
    },
  });
  setUpAdminViews();
  setUpStaffView();
  setUpSelfRegistrations({ onOpenRecord: (patientId) => void openRecord(patientId, $('#selfreg-error')) });
  // A page kept in the back/forward cache must not bring a PIN or password back into view.
  window.addEventListener('pagehide', () => {
    clearRecordView();
    clearStaffView();
    clearSelfRegistrations();
    resetSignIn();
    if (!$('#view-record').hidden) showView('#view-patients');
  });
  if (restoreSession()) showSignedIn();
  else showSignIn();
}

setUp();
