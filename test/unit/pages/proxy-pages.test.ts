/**
 * The page HTML of issue 18 (proxy access): the account page's "Records you can open" and "People
 * who can act for you", the register page's "I already have a login" for a proxy invitation, and
 * the console's Proxies panel. Every input has a visible label, ids are unique, the parts that
 * depend on who is signed in start hidden, and nothing inline breaks the CSP.
 */
import { describe, expect, it } from 'vitest';
import { renderAccountPage } from '../../../lambdas/pages/account.ts';
import { renderConsolePage } from '../../../lambdas/pages/console.ts';
import { renderPortalPage } from '../../../lambdas/pages/portal.ts';

const ids = (doc: string) => [...doc.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);

/** Every input (radios and checkboxes included) and its <label for>, by id. */
function unlabelledInputs(doc: string): string[] {
  const labels = new Set([...doc.matchAll(/<label for="([^"]+)"/g)].map((m) => m[1]));
  return [...doc.matchAll(/<input id="([^"]+)"|<input type="(?:radio|checkbox)" id="([^"]+)"/g)].map((m) => m[1] ?? m[2]!).filter((id) => !labels.has(id));
}

/** The opening tag of the element with this id. */
const tag = (doc: string, id: string) => new RegExp(`<[a-z]+[^>]*\\sid="${id}"[^>]*>`).exec(doc)?.[0] ?? '';

const labelText = (doc: string, id: string) => new RegExp(`<label for="${id}">([^<]*)</label>`).exec(doc)?.[1];

function commonChecks(doc: string) {
  const all = ids(doc);
  expect(all.filter((id, i) => all.indexOf(id) !== i), 'duplicate ids').toEqual([]);
  expect(unlabelledInputs(doc)).toEqual([]);
  // The CSP forbids inline scripts and styles.
  expect(doc).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=/);
}

describe('the account page (issue 18)', () => {
  const doc = renderAccountPage();

  it('lists the records this login can open, with an alert for a record it may no longer open', () => {
    commonChecks(doc);
    expect(doc).toContain('<h2 id="records-heading">Records you can open</h2>');
    expect(tag(doc, 'records-error')).toContain('role="alert"');
    expect(tag(doc, 'record-opened')).toContain(' hidden');
  });

  it('"People who can act for you" starts hidden (shown only to a patient), with the invite form labelled as api.md asks', () => {
    expect(tag(doc, 'proxies')).toContain(' hidden');
    expect(doc).toContain('People who can act for you');
    expect(labelText(doc, 'proxy-name')).toBe('Name');
    expect(labelText(doc, 'proxy-email')).toBe('Email');
    expect(labelText(doc, 'proxy-relationship')).toBe('Relationship');
    expect(labelText(doc, 'proxy-until')).toBe('End date (optional)');
    expect(doc).toMatch(/<legend>Scope<\/legend>/);
    expect(tag(doc, 'proxy-scope-limited')).toContain('checked');
    expect(tag(doc, 'proxy-form-error')).toContain('role="alert"');
    expect(doc).toMatch(/<button type="submit" data-busy="Inviting…">Invite<\/button>/);
  });

  it('the PIN box starts hidden and empty, and says to pass the PIN on in person', () => {
    expect(tag(doc, 'proxy-pin')).toContain(' hidden');
    expect(doc).toMatch(/<p class="pin" id="proxy-pin-value"[^>]*><\/p>/);
    expect(doc).toContain('Pass it on in person or by phone, never by email or text message.');
  });

  it('ending access is confirmed in the page’s own dialog, on the safe choice first', () => {
    expect(doc).toMatch(/<dialog id="end-dialog" aria-labelledby="end-title" aria-describedby="end-message">/);
    expect(doc.indexOf('id="end-cancel"')).toBeLessThan(doc.indexOf('id="end-confirm"'));
    expect(doc).toContain('<link rel="stylesheet" href="../assets/account.css">');
  });
});

describe('the register page for a proxy invitation (issue 18)', () => {
  const doc = renderPortalPage('register');

  it('offers "I already have a login" beside a new login, hidden until the lookup says kind "proxy"', () => {
    commonChecks(doc);
    expect(tag(doc, 'login-choice')).toMatch(/<fieldset[^>]* hidden/);
    expect(labelText(doc, 'login-choice-new')).toBe('Create a new login');
    expect(labelText(doc, 'login-choice-existing')).toBe('I already have a login');
    expect(tag(doc, 'login-choice-new')).toContain('checked');
    // One form, the same three fields (so the labels stay "PIN", "Username", "Password").
    expect(doc.match(/<label for="[^"]+">PIN<\/label>/g)).toHaveLength(1);
    expect(doc.match(/<label for="[^"]+">Password<\/label>/g)).toHaveLength(1);
  });
});

describe('the console’s Proxies panel (issue 18)', () => {
  const doc = renderConsolePage();

  it('sits on the record view, with a list, an alert and the invite form labelled', () => {
    commonChecks(doc);
    const record = doc.slice(doc.indexOf('<section id="view-record"'), doc.indexOf('<section id="view-settings"'));
    expect(record).toContain('<h3 id="proxies-heading" tabindex="-1">Proxies</h3>');
    expect(tag(doc, 'proxies-error')).toContain('role="alert"');
    expect(tag(doc, 'proxy-invite-error')).toContain('role="alert"');
    for (const [id, label] of [['proxy-name', 'Name'], ['proxy-email', 'Email'], ['proxy-relationship', 'Relationship'], ['proxy-until', 'End date (optional)']]) {
      expect(labelText(doc, id!)).toBe(label);
    }
    expect(doc).toContain('<button type="submit">Invite proxy</button>');
  });

  it('the PIN box starts hidden and empty', () => {
    expect(tag(doc, 'proxy-secret')).toContain(' hidden');
    expect(doc).toMatch(/<p class="secret-value" id="proxy-secret-value"[^>]*><\/p>/);
  });
});
