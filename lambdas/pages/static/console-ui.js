// Small DOM helpers for the staff console. Data is only ever written with textContent, never
// as HTML, so nothing a record holds can become markup.

export const $ = (selector, root = document) => {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`console page is missing ${selector}`);
  return found;
};

/** An element with text and attributes; children are appended as given. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

/** Shows an error (role="alert") next to a form and moves focus to it. */
export function showError(alertEl, message) {
  alertEl.textContent = message;
  alertEl.hidden = false;
  alertEl.focus();
}

export function clearError(alertEl) {
  alertEl.textContent = '';
  alertEl.hidden = true;
}

/** The aria-live status line: progress and outcomes that are not errors. */
export function announce(message) {
  const status = document.getElementById('console-status');
  if (status) status.textContent = message;
}

/**
 * Runs `work` with the form's buttons disabled and a progress text announced; buttons are
 * re-enabled afterwards whatever happens.
 */
export async function busy(container, progress, work) {
  const buttons = [...container.querySelectorAll('button')].filter((b) => !b.disabled);
  for (const b of buttons) b.disabled = true;
  container.setAttribute('aria-busy', 'true');
  announce(progress);
  try {
    return await work();
  } finally {
    for (const b of buttons) b.disabled = false;
    container.removeAttribute('aria-busy');
    // The progress text goes once the work is done, unless something newer was announced.
    const status = document.getElementById('console-status');
    if (status?.textContent === progress) status.textContent = '';
  }
}

/** A date as staff read it, in the browser's time zone, with the ISO value in a <time>. */
export function when(iso) {
  if (!iso) return document.createTextNode('—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return document.createTextNode(String(iso));
  return el('time', { datetime: iso, text: date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) });
}

export function whenText(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * Asks before a destructive action, in the page's own <dialog> (keyboard and screen-reader
 * friendly, focus kept inside). Resolves true only when the named action button is chosen.
 */
export function confirmAction(message, actionLabel) {
  const dialog = /** @type {HTMLDialogElement} */ ($('#confirm-dialog'));
  $('#confirm-message', dialog).textContent = message;
  const ok = $('#confirm-ok', dialog);
  ok.textContent = actionLabel;
  const previous = document.activeElement;
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener('close', onClose);
      ok.removeEventListener('click', onOk);
      if (dialog.open) dialog.close();
      if (previous instanceof HTMLElement) previous.focus();
      resolve(answer);
    };
    const onOk = () => done(true);
    const onClose = () => done(false);
    ok.addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('#confirm-cancel', dialog).focus();
  });
}

/** Moves focus to a heading or region without making it a tab stop. */
export function focusOn(node) {
  if (!node.hasAttribute('tabindex')) node.setAttribute('tabindex', '-1');
  node.focus();
}
