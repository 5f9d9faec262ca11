/**
 * Proxy (caregiver) access in Chromium (issue 18, "Done when"): staff invite a parent as proxy for
 * a child in the console; the parent opens the emailed link, adds the child's record to the login
 * they already have with the PIN, and sees it on the account page; staff end the access; the
 * parent's next request for that record is refused (on the page and over the API) while their
 * own record still opens. A second run has the PATIENT invite the parent from their account page
 * and end the access there. A third has a proxy create a login of their own; a fourth joins a
 * second record of the same person to their login (relationship "self"). Axe and screenshots
 * at 390 and 1280 px; no CSP violation or script error.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox } from '../integration/support/stack.ts';
import { staffAccessTokens } from '../integration/support/staff-session.ts';
import { launchBrowser, newPage, pageUrl, record, watchConsole, widths } from './support/browser.ts';
import { checkView, done, openConsolePage, useSession } from './support/console.ts';

declare const sessionStorage: { getItem(key: string): string | null };
declare const document: any;
declare const localStorage: any;

const journey = 300_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });
const password = 'correct horse battery staple meadow';

let browser: Browser;
let staff: string;
const pages: Page[] = [];
const consoleProblems: string[][] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  staff = (await staffAccessTokens()).staff;
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const problems of consoleProblems.splice(0)) {
    expect(problems.filter((p) => /Content Security Policy|pageerror|Refused to/i.test(p))).toEqual([]);
  }
  for (const page of pages.splice(0)) await page.context().close().catch(() => undefined);
});

async function open(width: number = widths.phone): Promise<Page> {
  const page = await newPage(browser, width);
  pages.push(page);
  consoleProblems.push(watchConsole(page));
  return page;
}

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const emailOf = (id: string) => `${id.toLowerCase()}@example.test`;

/** Every /portal/register#token=… link emailed to this address, oldest first. */
async function registerLinks(email: string): Promise<string[]> {
  return (await mailbox(email)).flatMap((m) => [...(m.body.text ?? '').matchAll(/\/portal\/register#token=([A-Za-z0-9_.-]+)/g)].map((x) => x[1]!));
}

/** Waits for the n-th register link to this address and answers its token. */
async function nthLink(email: string, n: number): Promise<string> {
  await poll(async () => (await registerLinks(email)).length).toBeGreaterThanOrEqual(n);
  return (await registerLinks(email))[n - 1]!;
}

/** A patient with a record and a login of their own, registered through an invitation over the API. */
async function registeredPatient(prefix: string, cases: string[]) {
  const patientId = unique(prefix);
  const email = emailOf(patientId);
  expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases } })).status).toBe(200);
  const invite = await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff });
  expect(invite.status).toBe(201);
  const token = await nthLink(email, 1);
  const username = unique(prefix.toLowerCase());
  expect((await api('/registrations', { method: 'POST', body: { token, pin: invite.json.pin, username, password } })).status).toBe(201);
  return { patientId, email, username };
}

const visible = (page: Page, state: string) => page.locator(`[data-state="${state}"]`).waitFor({ state: 'visible' });

/** Signs in on /portal/login and lands on the account page. */
async function signIn(page: Page, username: string, pw = password): Promise<void> {
  await page.goto(pageUrl('/portal/login'));
  await page.getByLabel('Username', { exact: true }).first().fill(username);
  await page.getByLabel('Password', { exact: true }).fill(pw);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(pageUrl('/portal/account'));
  await visible(page, 'signed-in');
}

const tokenOf = async (page: Page) => (JSON.parse((await page.evaluate(() => sessionStorage.getItem('portal.session'))) ?? '{}') as { accessToken: string }).accessToken;

/** The proxy opens the emailed link and adds the record to the login they already have. */
async function acceptWithExistingLogin(page: Page, token: string, pin: string, username: string, name: string): Promise<void> {
  await page.goto(pageUrl(`/portal/register#token=${token}`));
  await visible(page, 'form');
  const choice = page.getByRole('group', { name: /You are invited to act for someone/ });
  await choice.waitFor();
  await choice.getByLabel('I already have a login').check();
  const form = page.locator('#register-form');
  await poll(() => form.locator('button[type=submit]').textContent()).toBe('Add to my login');
  await form.getByLabel('PIN', { exact: true }).fill(pin);
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await record(page, name);
  await form.getByRole('button', { name: 'Add to my login' }).click();
  await visible(page, 'done');
  expect(await page.locator('#done-username').textContent()).toBe(username);
}

/** An "Open …" button of "Records you can open". */
async function openRecordOnPage(page: Page, label: string): Promise<void> {
  await page.getByRole('button', { name: label }).click();
}

describe('proxy access in the browser', () => {
  it('staff invite a parent as proxy for a child in the console → the parent adds the record to their login → sees it → staff end the access → the next request is refused, their own record still opens', async () => {
    const child = unique('KID');
    const childEmail = emailOf(child);
    expect((await api(`/patients/${child}/portal`, { method: 'PUT', token: staff, body: { email: childEmail, cases: ['C-81', 'C-82'] } })).status).toBe(200);
    const parent = await registeredPatient('PARENT', ['C-71']);
    const name = `Pat ${randomUUID().slice(0, 4)}`;

    // Staff: the child's record, its Proxies panel, "Invite a proxy".
    const staffPage = await openConsolePage(browser, 1280);
    await useSession(staffPage, 'staff');
    await staffPage.getByLabel('Patient id', { exact: true }).fill(child);
    await staffPage.getByRole('button', { name: 'Open', exact: true }).click();
    await poll(() => staffPage.locator('#record-heading').textContent()).toBe(`Patient ${child}`);
    await poll(() => staffPage.locator('#proxies-empty').isVisible()).toBe(true);
    const invite = staffPage.locator('#proxy-invite-form');
    // Nothing filled: refused in words before any request.
    await invite.getByRole('button', { name: 'Invite proxy' }).click();
    await poll(() => staffPage.locator('#proxy-invite-error').textContent()).toContain('Name: required.');
    await invite.getByLabel('Name', { exact: true }).fill(name);
    await invite.getByLabel('Email', { exact: true }).fill(parent.email);
    await invite.getByLabel('Relationship', { exact: true }).fill('parent');
    await invite.getByLabel(/^Full/).check();
    await invite.getByRole('button', { name: 'Invite proxy' }).click();
    await staffPage.locator('#proxy-secret').waitFor();
    const pin = (await staffPage.locator('#proxy-secret-value').textContent())!;
    expect(pin).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    await poll(() => staffPage.evaluate(() => document.activeElement?.id)).toBe('proxy-secret');
    expect(await staffPage.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage))).not.toContain(pin);
    await poll(() => staffPage.locator('#proxies-list').textContent()).toContain('Invited');
    expect(await staffPage.locator('#proxies-list').textContent()).toContain(name);
    await checkView(staffPage, 'proxies-invited');

    // The parent: the emailed link (the second register link to their address), the PIN, their own login.
    const token = await nthLink(parent.email, 2);
    const parentPage = await open(widths.phone);
    await acceptWithExistingLogin(parentPage, token, pin, parent.username, 'proxy-register-existing-login');

    await signIn(parentPage, parent.username);
    const records = parentPage.locator('#account-records');
    await poll(() => records.innerText()).toContain('A record you act for as parent');
    expect(await records.innerText()).toContain('Your own record');
    expect(await records.innerText()).toContain('C-71');
    await openRecordOnPage(parentPage, `Open record ${child}`);
    await parentPage.locator('#record-opened').waitFor();
    expect(await parentPage.locator('#record-opened').innerText()).toContain('C-81, C-82');
    expect(await parentPage.locator('#record-opened').innerText()).toContain('full access');
    await record(parentPage, 'account-proxy-records');
    const parentToken = await tokenOf(parentPage);
    expect((await api(`/account/records/${child}`, { token: parentToken })).status).toBe(200);

    // Staff: the proxy is Active now; end the access after the confirmation.
    await staffPage.getByRole('button', { name: 'Refresh' }).click();
    await poll(() => staffPage.locator('#proxies-list').textContent()).toContain('Active');
    await staffPage.getByRole('button', { name: `End access for ${name}` }).click();
    const dialog = staffPage.getByRole('dialog');
    await dialog.waitFor();
    expect(await staffPage.locator('#confirm-message').textContent()).toContain(name);
    await dialog.getByRole('button', { name: 'End access' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await poll(() => staffPage.locator('#proxies-list').textContent()).toContain('Ended');
    expect(await staffPage.getByRole('button', { name: `End access for ${name}` }).count()).toBe(0);
    await checkView(staffPage, 'proxies-ended');
    await done(staffPage);

    // The parent's next request for the child's record is refused, on the page they still have open…
    await openRecordOnPage(parentPage, `Open record ${child}`);
    await poll(() => parentPage.locator('#records-error').innerText()).toContain('You can no longer open this record');
    await poll(() => records.innerText()).not.toContain(child);
    await record(parentPage, 'account-proxy-refused');
    // …while their own record still opens, with the same session.
    await openRecordOnPage(parentPage, 'Open your record');
    await parentPage.locator('#record-opened').waitFor();
    expect(await parentPage.locator('#record-opened').innerText()).toContain('C-71');
    expect((await api(`/account/records/${child}`, { token: parentToken })).status).toBe(403);
    expect((await api(`/account/records/${parent.patientId}`, { token: parentToken })).status).toBe(200);
  }, journey);

  it('the patient invites a parent from the account page, shows the PIN once, and ends the access there: the next request for the record is refused, the parent’s own record still opens', async () => {
    const child = await registeredPatient('TEEN', ['C-91']);
    const parent = await registeredPatient('MUM', ['C-61']);
    const name = `Alex ${randomUUID().slice(0, 4)}`;

    const childPage = await open(widths.desktop);
    await signIn(childPage, child.username);
    const section = childPage.locator('#proxies');
    await section.waitFor();
    await poll(() => childPage.locator('#proxy-none').isVisible()).toBe(true);

    const form = childPage.locator('#proxy-form');
    // A day already gone is refused in words, next to the form.
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Email', { exact: true }).fill(parent.email);
    await form.getByLabel('Relationship', { exact: true }).fill('mother');
    await form.getByLabel('End date (optional)').fill('2020-01-01');
    await form.getByRole('button', { name: 'Invite' }).click();
    await poll(() => childPage.locator('#proxy-form-error').innerText()).toContain('End date');
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel('End date (optional)').fill(until);
    await form.getByRole('button', { name: 'Invite' }).click();
    await childPage.locator('#proxy-pin').waitFor();
    const pin = (await childPage.locator('#proxy-pin-value').textContent())!;
    expect(pin).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    expect(await childPage.locator('#proxy-pin').innerText()).toContain('Pass it on in person');
    expect(await childPage.evaluate(() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage))).not.toContain(pin);
    await poll(() => childPage.locator('#proxy-list').innerText()).toContain(name);
    expect(await childPage.locator('#proxy-list').innerText()).toContain('invited');
    await record(childPage, 'account-proxy-invited');
    // "I have noted the PIN" takes it off the page.
    await childPage.getByRole('button', { name: 'I have noted the PIN' }).click();
    expect(await childPage.locator('#proxy-pin-value').textContent()).toBe('');

    const token = await nthLink(parent.email, 2);
    const parentPage = await open(widths.phone);
    await acceptWithExistingLogin(parentPage, token, pin, parent.username, 'proxy-register-existing-login-2');
    await signIn(parentPage, parent.username);
    await poll(() => parentPage.locator('#account-records').innerText()).toContain('A record you act for as mother');
    expect(await parentPage.locator('#account-records').innerText()).toContain('limited access');
    await openRecordOnPage(parentPage, `Open record ${child.patientId}`);
    await parentPage.locator('#record-opened').waitFor();
    // Limited: a summary, no case list.
    expect(await parentPage.locator('#record-opened').innerText()).not.toContain('C-91');
    const parentToken = await tokenOf(parentPage);

    // The patient sees the proxy as active and ends the access, after the confirmation.
    await childPage.reload();
    await poll(() => childPage.locator('#proxy-list').innerText()).toContain('can act for you now');
    await childPage.getByRole('button', { name: `End access for ${name}` }).click();
    const dialog = childPage.getByRole('dialog');
    await dialog.waitFor();
    expect(await childPage.locator('#end-message').innerText()).toContain(name);
    expect(await childPage.evaluate(() => document.activeElement?.id)).toBe('end-cancel');
    await record(childPage, 'account-proxy-confirm');
    await dialog.getByRole('button', { name: 'End access' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await poll(() => childPage.locator('#proxy-changed').innerText()).toContain(`${name} can no longer act for you`);
    expect(await childPage.locator('#proxy-list').innerText()).toContain('access ended');
    await record(childPage, 'account-proxy-ended');

    await openRecordOnPage(parentPage, `Open record ${child.patientId}`);
    await poll(() => parentPage.locator('#records-error').innerText()).toContain('You can no longer open this record');
    await openRecordOnPage(parentPage, 'Open your record');
    await parentPage.locator('#record-opened').waitFor();
    expect(await parentPage.locator('#record-opened').innerText()).toContain('C-61');
    expect((await api(`/account/records/${child.patientId}`, { token: parentToken })).status).toBe(403);
    expect((await api(`/account/records/${parent.patientId}`, { token: parentToken })).status).toBe(200);
  }, journey);

  it('a proxy without a login creates one from the link; the register page offers both choices only for a proxy invitation', async () => {
    const child = unique('BABY');
    const childEmail = emailOf(child);
    expect((await api(`/patients/${child}/portal`, { method: 'PUT', token: staff, body: { email: childEmail, cases: ['C-51'] } })).status).toBe(200);
    const carerEmail = emailOf(unique('CARER'));
    const invited = await api(`/patients/${child}/portal/proxies`, { method: 'POST', token: staff, body: { name: 'Sam Carer', email: carerEmail, relationship: 'carer', scope: 'full' } });
    expect(invited.status).toBe(201);
    const token = await nthLink(carerEmail, 1);

    const page = await open(widths.phone);
    await page.goto(pageUrl(`/portal/register#token=${token}`));
    await visible(page, 'form');
    await page.locator('#login-choice').waitFor();
    expect(await page.getByLabel('Create a new login').isChecked()).toBe(true);
    await record(page, 'proxy-register-choice');
    const username = unique('carer');
    const form = page.locator('#register-form');
    await form.getByLabel('PIN', { exact: true }).fill(invited.json.pin);
    await form.getByLabel('Username', { exact: true }).fill(username);
    await form.getByLabel('Password', { exact: true }).fill(password);
    await form.getByRole('button', { name: 'Register' }).click();
    await visible(page, 'done');

    await signIn(page, username);
    await poll(() => page.locator('#account-records').innerText()).toContain('A record you act for as carer');
    expect(await page.locator('#account-records').innerText()).not.toContain('Your own record');
    // No record of their own: nobody to act for them, so the section stays hidden.
    expect(await page.locator('#proxies').isHidden()).toBe(true);
    await record(page, 'account-proxy-only');

    // A patient's own invitation shows no choice.
    const patient = unique('SOLO');
    expect((await api(`/patients/${patient}/portal`, { method: 'PUT', token: staff, body: { email: emailOf(patient) } })).status).toBe(200);
    expect((await api(`/patients/${patient}/portal/invitation`, { method: 'POST', token: staff })).status).toBe(201);
    const own = await open(widths.phone);
    await own.goto(pageUrl(`/portal/register#token=${await nthLink(emailOf(patient), 1)}`));
    await visible(own, 'form');
    expect(await own.locator('#login-choice').isHidden()).toBe(true);
  }, journey);

  it('one login for several records: a "self" invitation offers only the existing login, and the account page then opens both records as the person’s own', async () => {
    const person = await registeredPatient('SITE1', ['C-11']);
    const second = unique('SITE2');
    expect((await api(`/patients/${second}/portal`, { method: 'PUT', token: staff, body: { email: person.email, cases: ['C-22'] } })).status).toBe(200);
    const invited = await api(`/patients/${second}/portal/proxies`, { method: 'POST', token: staff, body: { name: 'Same Person', email: person.email, relationship: 'self', scope: 'full' } });
    expect(invited.status).toBe(201);
    const token = await nthLink(person.email, 2);

    const page = await open(widths.phone);
    await page.goto(pageUrl(`/portal/register#token=${token}`));
    await visible(page, 'form');
    await page.locator('#login-choice').waitFor();
    expect(await page.getByLabel('I already have a login').isChecked()).toBe(true);
    expect(await page.getByLabel('Create a new login').isVisible()).toBe(false);
    const form = page.locator('#register-form');
    await form.getByLabel('PIN', { exact: true }).fill(invited.json.pin);
    await form.getByLabel('Username', { exact: true }).fill(person.username);
    await form.getByLabel('Password', { exact: true }).fill(password);
    await record(page, 'proxy-register-self');
    await form.getByRole('button', { name: 'Add to my login' }).click();
    await visible(page, 'done');

    await signIn(page, person.username);
    await poll(() => page.getByRole('button', { name: `Open your record ${second}` }).count()).toBe(1);
    await page.getByRole('button', { name: `Open your record ${second}` }).click();
    await page.locator('#record-opened').waitFor();
    expect(await page.locator('#record-opened').innerText()).toContain('C-22');
    await page.getByRole('button', { name: `Open your record ${person.patientId}` }).click();
    await poll(() => page.locator('#record-opened').innerText()).toContain('C-11');
    await record(page, 'account-several-records');
  }, journey);
});
