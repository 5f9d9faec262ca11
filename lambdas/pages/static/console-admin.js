// Admin views: practice settings, one staff user's permissions (on the Staff page, see
// console-staff.js), and the forced credential change.
import { problemText, request, seg } from './console-api.js';
import { $, announce, busy, clearError, confirmAction, focusOn, showError } from './console-ui.js';

const numberFields = ['invitationDays', 'temporaryPasswordHours', 'lobbyMinutes', 'resetMinutes'];
const flagFields = ['emailMatch', 'selfRegistration', 'patientReset', 'autoInvite', 'phoneCodes'];
const textFields = ['practiceName', 'portalUrl'];
/** Text settings that may be absent (shown empty): notifyEmail, the practice inbox (issue 19). */
const optionalTextFields = ['notifyEmail'];

const settingsLabels = {
  'body.notifyEmail': 'Practice inbox for notices',
  'body.practiceName': 'Practice name',
  'body.portalUrl': 'Portal address',
  'body.invitationDays': 'Invitation valid for (days)',
  'body.temporaryPasswordHours': 'Temporary password valid for (hours)',
  'body.lobbyMinutes': 'Lobby password valid for (minutes)',
  'body.resetMinutes': 'Reset link valid for (minutes)',
  'body.phoneCodes': 'Texted code instead of the PIN',
};

/** @type {any} settings as last read, to send only what changed */
let loaded = null;
let permissionsOf = '';

export async function openSettings() {
  const form = $('#settings-form');
  const alertEl = $('#settings-error');
  clearError(alertEl);
  clearError($('#forced-error'));
  $('#forced-result').textContent = '';
  const res = await busy(form, 'Loading settings…', () => request('GET', 'settings'));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'see the practice settings'));
    return;
  }
  fill(res.json);
  announce('Settings loaded.');
}

function fill(settings) {
  loaded = settings;
  const form = $('#settings-form');
  for (const name of optionalTextFields) form.elements[name].value = settings[name] ?? '';
  for (const name of [...textFields, ...numberFields]) form.elements[name].value = String(settings[name] ?? '');
  for (const name of flagFields) form.elements[name].checked = Boolean(settings[name]);
  // Issue 17: phone codes need SMS in the deployment; GET /settings says why not (a PUT answers only the settings).
  if ('phoneCodesAvailable' in settings) {
    const why = $('#settings-phone-codes-unavailable');
    form.elements.phoneCodes.disabled = !settings.phoneCodesAvailable && !settings.phoneCodes;
    why.hidden = Boolean(settings.phoneCodesAvailable);
    why.textContent = settings.phoneCodesAvailable ? '' : `Texted codes are not available: ${settings.phoneCodesUnavailableReason ?? 'this deployment cannot send texts'}.`;
  }
}

async function saveSettings(event) {
  event.preventDefault();
  const form = $('#settings-form');
  const alertEl = $('#settings-error');
  clearError(alertEl);
  if (!loaded) return;
  const change = {};
  for (const name of textFields) {
    const value = form.elements[name].value.trim();
    if (value !== loaded[name]) change[name] = value;
  }
  for (const name of numberFields) {
    const raw = form.elements[name].value.trim();
    const value = Number(raw);
    if (raw === '' || !Number.isInteger(value)) {
      showError(alertEl, `${settingsLabels[`body.${name}`]}: enter a whole number.`);
      return;
    }
    if (value !== loaded[name]) change[name] = value;
  }
  for (const name of flagFields) if (form.elements[name].checked !== loaded[name]) change[name] = form.elements[name].checked;
  for (const name of optionalTextFields) {
    const value = form.elements[name].value.trim();
    if (value === (loaded[name] ?? '')) continue;
    // An emptied field clears the setting (null).
    change[name] = value === '' ? null : value;
  }
  if (Object.keys(change).length === 0) {
    announce('Nothing to save: no setting was changed.');
    return;
  }
  const res = await busy(form, 'Saving settings…', () => request('PUT', 'settings', { body: change }));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'change the practice settings', settingsLabels));
    return;
  }
  fill(res.json);
  announce('Settings saved.');
}

async function forcedChange() {
  const alertEl = $('#forced-error');
  clearError(alertEl);
  const ok = await confirmAction(
    'Make every registered patient choose a new password at their next sign-in? This cannot be undone.',
    'Require new passwords',
  );
  if (!ok) return;
  const section = $('#forced-change');
  let res;
  let total = 0;
  // The service works within a time budget: POST again until it says the run is complete.
  do {
    res = await busy(section, 'Requiring new passwords…', () => request('POST', 'portal/forced-credential-change'));
    if (res.status !== 202) break;
    total = res.json.count;
  } while (res.json.complete === false);
  if (res.status === 401) return;
  if (res.status !== 202) {
    showError(alertEl, problemText(res, 'require new passwords'));
    return;
  }
  $('#forced-result').textContent = `${total} registered patients must choose a new password at their next sign-in.`;
  announce('Forced credential change done.');
  focusOn($('#forced-result'));
}

async function loadPermissions(event) {
  event.preventDefault();
  await loadPermissionsOf($('#permissions-load').elements.staffId.value.trim());
}

/** Loads one staff user's permissions into the editor (also from a row of the Staff list). */
export async function loadPermissionsOf(staffId) {
  const form = $('#permissions-load');
  const alertEl = $('#permissions-error');
  clearError(alertEl);
  $('#permissions-form').hidden = true;
  form.elements.staffId.value = staffId;
  if (!staffId) {
    showError(alertEl, 'Staff id: enter the staff user\'s sign-in name.');
    return;
  }
  const res = await busy(form, 'Loading permissions…', () => request('GET', `staff/${seg(staffId)}/permissions`));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(
      alertEl,
      res.status === 404 ? `There is no staff user "${staffId}".` : problemText(res, 'see staff permissions', { 'params.staffId': 'Staff id' }),
    );
    return;
  }
  permissionsOf = staffId;
  showPermissions(res.json);
  $('#permissions-form').hidden = false;
  focusOn($('#permissions-legend'));
}

function showPermissions(permissions) {
  const form = $('#permissions-form');
  $('#permissions-legend').textContent = `Permissions of ${permissionsOf}`;
  form.elements.canInvite.checked = permissions.canInvite;
  form.elements.autoInvite.checked = permissions.autoInvite;
}

async function savePermissions(event) {
  event.preventDefault();
  const form = $('#permissions-form');
  const alertEl = $('#permissions-error');
  clearError(alertEl);
  const body = { canInvite: form.elements.canInvite.checked, autoInvite: form.elements.autoInvite.checked };
  const res = await busy(form, 'Saving permissions…', () => request('PUT', `staff/${seg(permissionsOf)}/permissions`, { body }));
  if (res.status === 401) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, 'change staff permissions'));
    return;
  }
  showPermissions(res.json);
  announce(`Permissions of ${permissionsOf} saved.`);
}

export function clearAdminViews() {
  loaded = null;
  permissionsOf = '';
  $('#settings-form').reset();
  $('#permissions-load').reset();
  $('#permissions-form').hidden = true;
  $('#forced-result').textContent = '';
}

export function setUpAdminViews() {
  $('#settings-form').addEventListener('submit', (e) => void saveSettings(e));
  $('#forced-change-button').addEventListener('click', () => void forcedChange());
  $('#permissions-load').addEventListener('submit', (e) => void loadPermissions(e));
  $('#permissions-form').addEventListener('submit', (e) => void savePermissions(e));
}
