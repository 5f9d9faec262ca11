// The "Proxies" panel of a record (issue 18): who can act for this patient with a login of their
// own (GET …/portal/proxies), "End access" for each after a confirmation (DELETE …/{proxyId}),
// and "Invite a proxy" (POST …/portal/proxies) whose PIN is shown once for staff to hand over in
// person. The PIN lives only in this panel and leaves the page with the record.
import { problemText, request, seg } from './console-api.js';
import { $, announce, busy, clearError, confirmAction, el, focusOn, showError, whenText } from './console-ui.js';

/** The record whose proxies are on screen; null when no record is open. */
let patientId = null;

const statusWords = { Invited: 'Invited: has not registered yet', Active: 'Active', Ended: 'Ended' };

const inviteLabels = {
  'body.name': 'Name',
  'body.email': 'Email',
  'body.relationship': 'Relationship',
  'body.scope': 'Scope',
  'body.until': 'End date',
};

function clearSecret() {
  for (const id of ['#proxy-secret-value', '#proxy-secret-spelled', '#proxy-secret-note']) $(id).textContent = '';
  $('#proxy-secret').hidden = true;
}

/** Empties the panel: called whenever the record view closes or another record opens. */
export function clearProxies() {
  patientId = null;
  clearSecret();
  clearError($('#proxies-error'));
  clearError($('#proxy-invite-error'));
  $('#proxies-list').replaceChildren();
  $('#proxies-empty').hidden = true;
  $('#proxy-invite-form').reset();
}

function row(p) {
  const parts = [
    p.relationship,
    p.scope === 'full' ? 'full access' : 'limited access',
    p.until ? `until ${whenText(p.until)}` : 'no end date',
    statusWords[p.status] ?? p.status,
  ].filter(Boolean);
  const item = el('li', { className: 'proxy', 'data-proxy-id': p.proxyId, 'data-status': p.status }, el('strong', { text: p.name }), el('span', { text: ` · ${parts.join(' · ')}` }));
  if (p.status !== 'Ended') {
    item.append(' ', el('button', { type: 'button', className: 'danger', 'data-end-proxy': p.proxyId, 'data-name': p.name, text: `End access for ${p.name}` }));
  }
  return item;
}

/** GET …/portal/proxies for the open record. */
export async function loadProxies(id) {
  patientId = id;
  const res = await request('GET', `patients/${seg(id)}/portal/proxies`);
  if (res.status === 401 || patientId !== id) return;
  const alertEl = $('#proxies-error');
  clearError(alertEl);
  if (res.status !== 200) {
    $('#proxies-list').replaceChildren();
    showError(alertEl, problemText(res, "see this patient's proxies"));
    return;
  }
  const items = Array.isArray(res.json?.items) ? res.json.items : [];
  $('#proxies-list').replaceChildren(...items.map(row));
  $('#proxies-empty').hidden = items.length > 0;
}

async function endAccess(button) {
  const id = patientId;
  const alertEl = $('#proxies-error');
  clearError(alertEl);
  const name = button.dataset.name;
  if (!(await confirmAction(`End ${name}'s access to this patient's record? It stops at once, even where ${name} is signed in now.`, 'End access'))) return;
  const res = await busy($('#proxies'), 'Ending the access…', () => request('DELETE', `patients/${seg(id)}/portal/proxies/${seg(button.dataset.endProxy)}`));
  if (res.status === 401 || patientId !== id) return;
  if (res.status !== 200) {
    showError(alertEl, problemText(res, "end this proxy's access"));
    return;
  }
  await loadProxies(id);
  announce(`${name} can no longer act for this patient.`);
  focusOn($('#proxies-heading'));
}

/** The end of the chosen day in this browser's time zone, as the ISO instant the API takes. */
function endOfDay(date) {
  const at = new Date(`${date}T23:59:59`);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

async function invite(event) {
  event.preventDefault();
  const id = patientId;
  if (!id) return;
  const form = $('#proxy-invite-form');
  const alertEl = $('#proxy-invite-error');
  clearError(alertEl);
  clearSecret();
  const value = (name) => form.elements[name].value.trim();
  const missing = ['name', 'email', 'relationship'].filter((n) => value(n) === '').map((n) => inviteLabels[`body.${n}`]);
  if (missing.length > 0) {
    showError(alertEl, missing.map((label) => `${label}: required.`).join(' '));
    return;
  }
  const body = { name: value('name'), email: value('email'), relationship: value('relationship'), scope: form.elements.scope.value === 'full' ? 'full' : 'limited' };
  if (value('until')) {
    const until = endOfDay(value('until'));
    if (!until || Date.parse(until) <= Date.now()) {
      showError(alertEl, 'End date: choose today or a later day.');
      return;
    }
    body.until = until;
  }
  const res = await busy(form, 'Inviting the proxy…', () => request('POST', `patients/${seg(id)}/portal/proxies`, { body }));
  if (res.status === 401 || patientId !== id) return;
  if (res.status !== 201) {
    showError(alertEl, problemText(res, 'invite a proxy', inviteLabels));
    return;
  }
  form.reset();
  const pin = String(res.json.pin);
  $('#proxy-secret-value').textContent = pin;
  $('#proxy-secret-spelled').textContent = `Spelled out: ${[...pin].join(' ')}`;
  const mail = res.json.delivery === 'Failed' ? `The email to ${body.name} could not be sent yet.` : `The link is emailed to ${body.name}.`;
  $('#proxy-secret-note').textContent = `${mail} Give them this PIN in person; it is never emailed. Valid until ${whenText(res.json.expiresAt)}.`;
  $('#proxy-secret').hidden = false;
  // Focus goes to the PIN at once (staff read it aloud); the list is read again behind it.
  focusOn($('#proxy-secret'));
  announce('Proxy invited.');
  await loadProxies(id);
}

export function setUpProxies() {
  $('#proxy-invite-form').addEventListener('submit', (e) => void invite(e));
  $('#proxies-list').addEventListener('click', (e) => {
    const button = e.target instanceof Element ? e.target.closest('[data-end-proxy]') : null;
    if (button) void endAccess(button);
  });
}
