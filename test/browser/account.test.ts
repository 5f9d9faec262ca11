/**
 * The patient's account page in Chromium (issue 15 item 5): a patient signs in and lands on
 * /portal/account, sees the records the login reaches and the last sign-ins (a wrong password
 * from elsewhere among them), changes the password there (the wrong current password refused in
 * words first), and the notice email says it was changed on the account page, not with a reset
 * link. Axe and screenshots at 390 and 1280 px; no CSP violation or script error.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox } from '../integration/support/stack.ts';
import { staffSession } from '../integration/support/staff-session.ts';
import { expectedPageHeaders, launchBrowser, newPage, pageUrl, record, watchConsole, widths } from './support/browser.ts';

declare const sessionStorage: { getItem(key: string): string | null };

const journey = 240_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });
const password = 'correct horse battery staple meadow';
const newPassword = 'a quite different long passphrase';

let browser: Browser;
let staff: string;
const pages: Page[] = [];
const consoleProblems: string[][] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  staff = (await staffSession('staff')).accessToken;
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const problems of consoleProblems.splice(0)) {
    expect(problems.filter((p) => /Content Security Policy|pageerror|Refused to/i.test(p))).toEqual([]);
  }
  for (const page of pages.splice(0)) await page.context().close();
});

async function open(width: number = widths.phone): Promise<Page> {
  const page = await newPage(browser, width);
  pages.push(page);
  consoleProblems.push(watchConsole(page));
  return page;
}

/** A patient registered through an invitation, over the API. */
async function registeredPatient() {
  const patientId = `ACC-${randomUUID().slice(0, 8)}`;
  const email = `${patientId.toLowerCase()}@example.test`;
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-31', 'C-32'] } })).status).toBe(200);
  const invite = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(invite.status).toBe(201);
  let token = '';
  for (let i = 0; i < 50 && !token; i++) {
    token = /\/portal\/register#token=([A-Za-z0-9_-]+)/.exec((await mailbox(email)).at(-1)?.body.text ?? '')?.[1] ?? '';
    if (!token) await new Promise((r) => setTimeout(r, 100));
  }
  const username = `acc-${randomUUID().slice(0, 8)}`;
  expect((await api('/registrations', { method: 'POST', body: { token, pin: invite.json.pin, username, password } })).status).toBe(201);
  return { patientId, email, username };
}

const visible = (page: Page, state: string) => page.locator(`[data-state="${state}"]`).waitFor({ state: 'visible' });

describe('the account page', () => {
  it('sign in → lands on the account page → records and recent sign-ins → wrong current password refused → password changed there → notice says so', async () => {
    const { email, username } = await registeredPatient();
    // Someone else tries a wrong password first: the patient should see it in the list.
    expect((await api('/sessions', { method: 'POST', body: { username, password: 'not the password at all, no' } })).status).toBe(401);

    const page = await open();
    await page.goto(pageUrl('/portal/login'));
    await page.getByLabel('Username', { exact: true }).first().fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(pageUrl('/portal/account'));
    await visible(page, 'signed-in');
    expect(await page.locator('#account-username').innerText()).toBe(username);
    expect(await page.locator('#account-records').innerText()).toContain('Your own record');
    expect(await page.locator('#account-records').innerText()).toContain('C-31, C-32');
    // The last sign-ins: this one, and the wrong password before it.
    const signIns = page.locator('#sign-ins li');
    await poll(() => signIns.count()).toBeGreaterThanOrEqual(2);
    expect(await signIns.nth(0).innerText()).toContain('Signed in');
    expect(await page.locator('#sign-ins').innerText()).toContain('Wrong password');
    await record(page, 'account');

    const form = page.locator('#password-form');
    await form.getByLabel('Current password', { exact: true }).fill('this is not my current one');
    await form.getByLabel('New password', { exact: true }).fill(newPassword);
    await form.getByRole('button', { name: 'Change password' }).click();
    await poll(() => page.locator('#password-form-error').innerText()).toContain('Current password');
    await record(page, 'account-password-error');

    await form.getByLabel('Current password', { exact: true }).fill(password);
    await form.getByLabel('New password', { exact: true }).fill(newPassword);
    await form.getByRole('button', { name: 'Change password' }).click();
    await poll(() => page.locator('#password-changed').innerText()).toContain('Your password is changed');
    expect(await page.locator('#password-form input[type=password]').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value))).toEqual(['', '']);
    // Still signed in here with the fresh token; the old password is spent, the new one works.
    expect(await page.evaluate(() => sessionStorage.getItem('portal.session'))).toMatch(/accessToken/);
    expect((await api('/sessions', { method: 'POST', body: { username, password } })).status).toBe(401);
    expect((await api('/sessions', { method: 'POST', body: { username, password: newPassword } })).status).toBe(200);
    await record(page, 'account-password-changed');

    // The notice says what changed and how: on the account page, not with a reset link.
    await poll(async () => (await mailbox(email)).filter((m) => /credentials were changed/.test(m.subject)).length).toBeGreaterThan(0);
    const notice = (await mailbox(email)).filter((m) => /credentials were changed/.test(m.subject)).at(-1)!;
    expect(notice.body.text).toContain('The password of your');
    expect(notice.body.text).toContain('on its account page');
    expect(notice.body.text).not.toContain('reset link');

    // Sign out: back to the sign-in page, the session gone from the tab.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(pageUrl('/portal/login'));
    await visible(page, 'signin');
    expect(await page.evaluate(() => sessionStorage.getItem('portal.session'))).toBeNull();
  }, journey);

  it('without a session the page says so and links to the sign-in page; it is sent with the security headers', async () => {
    const page = await open(widths.desktop);
    await page.goto(pageUrl('/portal/account'));
    await visible(page, 'ended');
    await record(page, 'account-ended');
    const res = await api('/portal/account');
    expect(res.status).toBe(200);
    for (const [header, value] of Object.entries(expectedPageHeaders)) expect(res.headers.get(header), header).toBe(value);
    expect((await api('/assets/account.js')).status).toBe(200);
  }, journey);

  it("GET /account/sign-ins needs the patient's own token and lists only their login's sign-ins", async () => {
    expect((await api('/account/sign-ins')).status).toBe(401);
    expect((await api('/account/sign-ins', { token: staff })).status).toBe(401);
    const a = await registeredPatient();
    const b = await registeredPatient();
    const signIn = async (username: string) => (await api('/sessions', { method: 'POST', body: { username, password } })).json.accessToken as string;
    const tokenA = await signIn(a.username);
    await signIn(b.username);
    await signIn(b.username);
    const items = (await api('/account/sign-ins', { token: tokenA })).json.items as { words: string; outcome: string }[];
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ outcome: 'success', words: 'Signed in' });
  }, journey);
});
