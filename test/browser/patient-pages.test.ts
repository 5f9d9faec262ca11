/**
 * The patient pages in Chromium against the local stack: every journey from the email in the
 * mailbox (or the front desk's answer) to the signed-in page, with axe and screenshots at 390
 * and 1280 px for every page state, keyboard-only runs of each form, the token removed from the
 * address bar, and the security headers of every page. Rule 26: every request any page makes is
 * recorded, and none carries an emailed link's token in its URL or Referer.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// A journey visits several pages with axe and screenshots each: minutes on a loaded machine.
const journey = 240_000;
// expect.poll's default second is too short for a page that calls the API on a busy machine.
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });
import { api, mailbox, stack } from '../integration/support/stack.ts';
import { portalPages } from '../../lib/routes/pages.ts';
import { expectedPageHeaders, fillWithKeyboard, launchBrowser, newPage, pageUrl, record, watchConsole, widths } from './support/browser.ts';
import { staffSession } from '../integration/support/staff-session.ts';

// Browser globals used inside page.evaluate() (the project compiles without the DOM library).
declare const sessionStorage: { length: number; getItem(key: string): string | null };
declare const localStorage: { length: number };

let browser: Browser;
let staff: string;
let admin: string;
const pages: Page[] = [];
const consoleProblems: string[][] = [];

/** Every request the test's pages made (rule 26), and every link token the test read from an email. */
interface SeenRequest {
  method: string;
  url: string;
  referer: string;
  postData: string;
}
const requests: SeenRequest[] = [];
const linkTokens = new Set<string>();
const tokenOf = (link: string) => new URLSearchParams(new URL(link).hash.slice(1)).get('token') ?? '';

beforeAll(async () => {
  browser = await launchBrowser();
  const s = stack();
  staff = (await staffSession('staff')).accessToken;
  admin = (await staffSession('admin')).accessToken;
  expect(staff).toBeTruthy();
  expect(admin).toBeTruthy();
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  // No CSP violation and no script error on any page of the test.
  for (const problems of consoleProblems.splice(0)) {
    expect(problems.filter((p) => /Content Security Policy|pageerror|Refused to/i.test(p))).toEqual([]);
  }
  for (const page of pages.splice(0)) await page.context().close();
  // Rule 26: no request of any page carried a link token in its URL or Referer. The fragment is
  // cut off first, as a browser does before sending: it is what a server would have seen.
  const seen = requests.splice(0);
  for (const token of linkTokens) {
    for (const r of seen) {
      // Booleans, so that a failure names the request without repeating the token.
      expect(r.url.replace(/#.*$/, '').includes(token), `token in the URL of ${r.method} ${r.url.split('?')[0]}`).toBe(false);
      expect(r.referer.includes(token), `token in the Referer of ${r.method} ${r.url.split('?')[0]}`).toBe(false);
    }
  }
  linkTokens.clear();
});

async function open(width: number = widths.phone): Promise<Page> {
  const page = await newPage(browser, width);
  pages.push(page);
  consoleProblems.push(watchConsole(page));
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url(), referer: r.headers()['referer'] ?? '', postData: r.postData() ?? '' }));
  return page;
}

const password = 'violet kestrel lantern harbour';
const newPassword = 'quiet orchard under copper skies';
const uniqueUsername = () => `pat-${randomUUID().slice(0, 8)}`;

/** A fresh record with an email (and a case number); ids unique to the test. */
async function patient(extra: Record<string, unknown> = {}) {
  const patientId = `PG-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  const res = await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-7'], ...extra } });
  expect(res.status).toBe(200);
  return { patientId, email };
}

/** The link of the given kind in the newest email to `email`. */
async function linkIn(email: string, kind: 'register' | 'reset' | 'verify'): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const text = (await mailbox(email)).at(-1)?.body.text ?? '';
    const link = new RegExp(`https?://\\S+/portal/${kind}#token=[A-Za-z0-9_-]+`).exec(text)?.[0];
    if (link) {
      linkTokens.add(tokenOf(link));
      return link;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${kind} link in the email to ${email}`);
}

/** A patient registered through an invitation (over the API), with their username. */
async function registeredPatient() {
  const p = await patient();
  const invite = await api(`/patients/${p.patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(invite.status).toBe(201);
  const token = tokenOf(await linkIn(p.email, 'register'));
  const username = uniqueUsername();
  const reg = await api('/registrations', { method: 'POST', body: { token, pin: invite.json.pin, username, password } });
  expect(reg.status).toBe(201);
  return { ...p, username };
}

const visible = (page: Page, state: string) => page.locator(`[data-state="${state}"]`).waitFor({ state: 'visible' });
const alertText = (page: Page, formId: string) => page.locator(`#${formId}-error`).innerText();

describe('the invitation journey', () => {
  it('email link → token gone from the address bar → weak password refused in words → register (keyboard only) → sign in → signed-in page → sign out; the used link then explains itself', async () => {
    const { patientId, email } = await patient();
    const invite = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff });
    expect(invite.status).toBe(201);
    const link = await linkIn(email, 'register');
    // Rule 26: the token after '#', which the browser never sends.
    expect(link.startsWith(`${stack().apiUrl}/portal/register#token=`)).toBe(true);

    const page = await open();
    await page.goto(link);
    await visible(page, 'form');
    // Rules 14 and 26: the token leaves the address bar as soon as the page has read it, and the
    // page checks the link with a POST that carries it in the body.
    expect(page.url()).toBe(pageUrl('/portal/register'));
    expect(page.url()).not.toContain('token');
    const lookups = requests.filter((r) => r.url.endsWith('/invitations/lookup'));
    expect(lookups.map((r) => [r.method, JSON.parse(r.postData)])).toEqual([['POST', { token: tokenOf(link) }]]);
    expect(await page.locator('#invitation-info').innerText()).toMatch(/^Invitation from .+\. This link works until .+\.$/);
    // The rules are on screen before anything is typed.
    expect(await page.locator('#password-hint').innerText()).toContain('At least 15 characters');
    await record(page, 'register-form');

    // The token was kept in memory only: a reload asks for the link again, and the link works.
    await page.reload();
    await visible(page, 'no-token');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.goto(link);
    await visible(page, 'form');
    expect(page.url()).toBe(pageUrl('/portal/register'));

    const username = uniqueUsername();
    await fillWithKeyboard(page, '#register-form', [
      ['PIN', invite.json.pin],
      ['Username', username],
      ['Password', 'too short'],
    ]);
    await poll(() => alertText(page, 'register-form')).toContain('Password must be at least 15 characters');
    expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true');
    await record(page, 'register-error');

    // "Show password" reveals what was typed, for a patient on a small keyboard.
    await page.getByLabel('Show password').check();
    expect(await page.locator('#password').getAttribute('type')).toBe('text');
    await page.getByLabel('Show password').uncheck();
    expect(await page.locator('#password').getAttribute('type')).toBe('password');

    // Paste is allowed: the password goes in as one clipboard-style insert.
    await page.locator('#password').fill('');
    await page.locator('#password').focus();
    await page.keyboard.insertText(password);
    await page.keyboard.press('Enter');
    await visible(page, 'done');
    expect(await page.locator('#done-username').innerText()).toBe(username);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await record(page, 'register-done');

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(pageUrl('/portal/login'));
    await visible(page, 'signin');
    await record(page, 'login');
    await fillWithKeyboard(page, '#signin-form', [
      ['Username', username],
      ['Password', password],
    ]);
    await visible(page, 'signed-in');
    expect(await page.locator('#account-username').innerText()).toBe(username);
    // Tokens in this tab's sessionStorage only, never localStorage or cookies.
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('portal.session'))).not.toMatch(/refresh/i);
    expect(await page.context().cookies()).toEqual([]);
    await record(page, 'login-signed-in');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page, 'signin');
    expect(await page.evaluate(() => sessionStorage.getItem('portal.session'))).toBeNull();

    // The used link: a plain explanation and whom to call.
    const again = await open();
    await again.goto(link);
    await visible(again, 'gone');
    expect(again.url()).toBe(pageUrl('/portal/register'));
    expect(await again.locator('[data-state="gone"]').innerText()).toMatch(/no longer works[\s\S]*call the practice/i);
    await record(again, 'register-gone');
  });

  it('the button shows progress and is disabled while the request runs; a wrong PIN is answered in words next to the form, and the button comes back', async () => {
    const { patientId, email } = await patient();
    const invite = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff });
    const page = await open(widths.desktop);
    await page.goto(await linkIn(email, 'register'));
    await visible(page, 'form');
    const wrongPin = invite.json.pin === '222222' ? '333333' : '222222';
    await page.getByLabel('PIN', { exact: true }).fill(wrongPin);
    await page.getByLabel('Username', { exact: true }).fill(uniqueUsername());
    await page.getByLabel('Password', { exact: true }).fill(password);
    // Hold the request, to see the button while it is in flight.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/registrations', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('button', { name: 'Register' }).click();
    const button = page.locator('#register-form button[type="submit"]');
    await poll(() => button.innerText()).toBe('Registering…');
    expect(await button.isDisabled()).toBe(true);
    release();
    await poll(() => alertText(page, 'register-form')).toMatch(/^PIN is not right/);
    expect(await page.getByRole('alert').first().innerText()).toMatch(/PIN is not right/);
    expect(await page.getByRole('button', { name: 'Register' }).isEnabled()).toBe(true);
  }, journey);

  it('without a token, and for an unknown page, the pages say what to do', async () => {
    const page = await open();
    await page.goto(pageUrl('/portal/register'));
    await visible(page, 'no-token');
    await record(page, 'register-no-token');
    await page.goto(pageUrl('/portal/reset'));
    await visible(page, 'no-token');
    await record(page, 'reset-no-token');
    const res = await page.goto(pageUrl('/portal/nothing-here'));
    expect(res?.status()).toBe(404);
    expect(await page.locator('h1').innerText()).toBe('Page not found');
    await record(page, 'not-found');
  }, journey);

  it('rule 26: a link of the old form (?token=) is never read: the query leaves the address bar, the page says the link is old, and nothing is sent with it', async () => {
    const { patientId, email } = await patient();
    expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff })).status).toBe(201);
    // A live token, in the old form: it must not register anything.
    const token = tokenOf(await linkIn(email, 'register'));
    for (const name of ['register', 'verify', 'reset'] as const) {
      const page = await open();
      const before = requests.length;
      await page.goto(`${pageUrl(`/portal/${name}`)}?token=${token}`);
      await visible(page, 'old-link');
      expect(page.url()).toBe(pageUrl(`/portal/${name}`));
      expect(await page.locator('[data-state="old-link"]').innerText()).toMatch(/no longer works/);
      await record(page, `${name}-old-link`);
      // Only the navigation itself held it (the old email's doing); the page sent it nowhere.
      const after = requests.slice(before).filter((r) => r.url.includes(token) || r.postData.includes(token) || r.referer.includes(token));
      expect(after.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([`GET ${pageUrl(`/portal/${name}`)}`]);
      requests.splice(before);
    }
    expect((await api('/invitations/lookup', { method: 'POST', body: { token } })).status).toBe(200);
  }, journey);
});

describe('Register Patient: temporary password → first sign-in → new password', () => {
  it('the temporary password signs in to the new-password step; a password with the username is refused in words; the new one signs in', async () => {
    const { patientId } = await patient();
    const reg = await api(`/patients/${patientId}/portal/registration`, { method: 'POST', token: staff });
    expect(reg.status).toBe(201);
    const { username, temporaryPassword } = reg.json as { username: string; temporaryPassword: string };
    expect(temporaryPassword).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/i);

    const page = await open();
    await page.goto(pageUrl('/portal/login'));
    await visible(page, 'signin');
    await fillWithKeyboard(page, '#signin-form', [
      ['Username', username],
      ['Password', temporaryPassword],
    ]);
    await visible(page, 'new-password');
    expect(await page.locator('#new-password-hint').innerText()).toContain('At least 15 characters');
    await record(page, 'login-new-password');

    await fillWithKeyboard(page, '#new-password-form', [['New password', `${username} and more words`]]);
    await poll(() => alertText(page, 'new-password-form')).toContain('New password must not contain your username');
    await record(page, 'login-new-password-error');

    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Save password' }).click();
    await visible(page, 'signed-in');
    expect(await page.locator('#account-username').innerText()).toBe(username);

    // The temporary password is spent; the new one works.
    expect((await api('/sessions', { method: 'POST', body: { username, password: temporaryPassword } })).status).toBe(401);
    const again = await api('/sessions', { method: 'POST', body: { username, password: newPassword } });
    expect(again.status).toBe(200);
    expect(again.json.accessToken).toBeTruthy();
  }, journey);
});

describe('reset from a failed sign-in', () => {
  it('wrong password → the offer to reset → email with link and PIN → reset page (keyboard only) → success without sign-in → sign in with the new password', async () => {
    const { email, username } = await registeredPatient();
    const page = await open();
    await page.goto(pageUrl('/portal/login'));
    await visible(page, 'signin');
    await page.getByLabel('Username', { exact: true }).first().fill(username);
    await page.getByLabel('Password', { exact: true }).fill('not my password at all, sorry');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => alertText(page, 'signin-form')).toBe('The username or password is not right.');
    await page.locator('#reset-offer').waitFor({ state: 'visible' });
    expect(await page.locator('#reset-username').inputValue()).toBe(username);
    // The password field is emptied after a failure.
    expect(await page.locator('#password').inputValue()).toBe('');
    await record(page, 'login-failed');

    const before = (await mailbox(email)).length;
    await page.locator('#reset-username').fill('');
    await fillWithKeyboard(page, '#reset-request-form', [['Username', username]]);
    await page.locator('#reset-requested').waitFor({ state: 'visible' });
    expect(await page.locator('#reset-requested').innerText()).toMatch(/reset link/i);
    await record(page, 'login-reset-requested');
    await poll(async () => (await mailbox(email)).length).toBe(before + 1);
    const text = (await mailbox(email)).at(-1)!.body.text ?? '';
    const pin = /PIN: ([A-Z0-9]{6})/.exec(text)?.[1];
    expect(pin).toBeTruthy();
    const link = await linkIn(email, 'reset');

    const reset = await open();
    await reset.goto(link);
    await visible(reset, 'form');
    expect(reset.url()).toBe(pageUrl('/portal/reset'));
    await record(reset, 'reset-form');

    // A wrong username first: the answer in words, the link still usable.
    await reset.getByLabel('Username', { exact: true }).fill(`${username}x`);
    await reset.getByLabel('PIN', { exact: true }).fill(pin!);
    await reset.getByLabel('New password', { exact: true }).fill(newPassword);
    await reset.getByRole('button', { name: 'Reset' }).click();
    await poll(() => alertText(reset, 'reset-form')).toMatch(/username or PIN is not right/);
    await record(reset, 'reset-error');

    // In memory only: after a reload the page needs the link again.
    await reset.reload();
    await visible(reset, 'no-token');
    await reset.goto(link);
    await visible(reset, 'form');
    expect(reset.url()).toBe(pageUrl('/portal/reset'));
    await fillWithKeyboard(reset, '#reset-form', [
      ['Username', username],
      ['PIN', pin!],
      ['New password', newPassword],
    ]);
    await visible(reset, 'done');
    // Rule 15: no automatic sign-in on the reset page.
    expect(await reset.evaluate(() => sessionStorage.getItem('portal.session'))).toBeNull();
    await record(reset, 'reset-done');

    await reset.getByRole('link', { name: 'Sign in' }).click();
    await reset.waitForURL(pageUrl('/portal/login'));
    await visible(reset, 'signin');
    await reset.getByLabel('Username', { exact: true }).first().fill(username);
    await reset.getByLabel('Password', { exact: true }).fill(newPassword);
    await reset.getByRole('button', { name: 'Sign in' }).click();
    await visible(reset, 'signed-in');

    const used = await open();
    await used.goto(link);
    await visible(used, 'form');
    await used.getByLabel('Username', { exact: true }).fill(username);
    await used.getByLabel('PIN', { exact: true }).fill(pin!);
    await used.getByLabel('New password', { exact: true }).fill('another long passphrase entirely');
    await used.getByRole('button', { name: 'Reset' }).click();
    await visible(used, 'gone');
    await record(used, 'reset-gone');
  }, journey);
});

describe('the lobby journey', () => {
  it('case number + lobby password (keyboard only) → the intake start page with its expiry and no patient data → Start → End session; a used lobby password is refused in words', async () => {
    const masterCase = `MC-${randomUUID().slice(0, 8)}`;
    const { patientId } = await patient({ masterCase });
    const issued = await api(`/patients/${patientId}/portal/lobby-password`, { method: 'POST', token: staff });
    expect(issued.status).toBe(201);
    const { lobbyPassword } = issued.json as { lobbyPassword: string };

    const page = await open();
    await page.goto(pageUrl('/portal/lobby'));
    await visible(page, 'signin');
    await record(page, 'lobby');
    await fillWithKeyboard(page, '#lobby-form', [
      ['Case number', masterCase],
      ['Lobby password', lobbyPassword],
    ]);
    await visible(page, 'intake');
    expect(await page.locator('#intake-expiry').innerText()).toMatch(/^at .+ \(in (59|60) minutes\)$/);
    const shown = await page.locator('main').innerText();
    expect(shown).not.toContain(patientId);
    expect(shown).not.toContain('@example.test');
    expect(await page.evaluate(() => sessionStorage.getItem('portal.lobby'))).not.toContain(patientId);
    await record(page, 'lobby-intake');

    await page.getByRole('button', { name: 'Start' }).click();
    await page.locator('#intake-started').waitFor({ state: 'visible' });
    expect(await page.locator('#intake-started').innerText()).toMatch(/intake session is open until/);
    await record(page, 'lobby-started');

    await page.getByRole('button', { name: 'End session' }).click();
    await visible(page, 'signin');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    // The password was for one session only.
    await page.getByLabel('Case number').fill(masterCase);
    await page.getByLabel('Lobby password').fill(lobbyPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => alertText(page, 'lobby-form')).toMatch(/not right, or the lobby password was already used/);
    await record(page, 'lobby-error');
  }, journey);
});

describe('the email-match page', () => {
  it('asks for the email, answers the same whatever it is, and the emailed link registers (practice setting on, then restored)', async () => {
    const before = (await api('/settings', { token: admin })).json;
    expect((await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: true, emailMatch: true } })).status).toBe(200);
    try {
      const { email } = await patient();
      const page = await open();
      await page.goto(pageUrl('/portal/verify'));
      await visible(page, 'request');
      await record(page, 'verify-request');
      await fillWithKeyboard(page, '#request-form', [['Email', email]]);
      await visible(page, 'requested');
      const answer = await page.locator('#requested-message').innerText();
      await record(page, 'verify-requested');

      const other = await open();
      await other.goto(pageUrl('/portal/verify'));
      await other.getByLabel('Email').fill(`nobody-${randomUUID().slice(0, 8)}@example.test`);
      await other.getByRole('button', { name: 'Email me a link' }).click();
      await visible(other, 'requested');
      expect(await other.locator('#requested-message').innerText()).toBe(answer);

      const link = await linkIn(email, 'verify');
      await page.goto(link);
      await visible(page, 'form');
      expect(page.url()).toBe(pageUrl('/portal/verify'));
      await record(page, 'verify-form');
      const username = uniqueUsername();
      await fillWithKeyboard(page, '#confirm-form', [
        ['Username', username],
        ['Password', password],
      ]);
      await visible(page, 'done');
      expect(await page.locator('#done-username').innerText()).toBe(username);
      await record(page, 'verify-done');

      await page.goto(link);
      await visible(page, 'form');
      await page.getByLabel('Username').fill(uniqueUsername());
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Register' }).click();
      await visible(page, 'gone');
      await record(page, 'verify-gone');
    } finally {
      await api('/settings', { method: 'PUT', token: admin, body: { selfRegistration: before.selfRegistration, emailMatch: before.emailMatch } });
    }
  }, journey);
});

describe('every page', () => {
  it('is sent with the security headers, and its files only from this origin', async () => {
    for (const name of [...portalPages, 'nothing-here']) {
      const res = await api(`/portal/${name}?token=abc`);
      expect(res.status, name).toBe(name === 'nothing-here' ? 404 : 200);
      for (const [header, value] of Object.entries(expectedPageHeaders)) expect(res.headers.get(header), `${name} ${header}`).toBe(value);
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(res.text).not.toContain('abc');
    }
    for (const file of ['portal.js', 'site.css']) {
      const res = await api(`/assets/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await api('/assets/..%2Fportal.ts')).status).toBe(404);
  }, journey);
});
