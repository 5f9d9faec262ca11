/**
 * Phone codes in Chromium against the local stack (issue 17): a patient who was not at the front
 * desk opens the invitation link, asks for a texted code, reads it from the SMS outbox and
 * registers without the PIN. axe and screenshots of the new states; the token never in a URL.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, mailbox, stack } from '../integration/support/stack.ts';
import { staffSession } from '../integration/support/staff-session.ts';
import { launchBrowser, newPage, pageUrl, record, watchConsole, widths } from './support/browser.ts';

const journey = 240_000;
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

let browser: Browser;
let staff: string;
let admin: string;
const pages: Page[] = [];
const consoleProblems: string[][] = [];
const requests: { url: string; referer: string }[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  staff = (await staffSession('staff')).accessToken;
  admin = (await staffSession('admin')).accessToken;
  expect((await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: true } })).status).toBe(200);
});

afterAll(async () => {
  await api('/settings', { method: 'PUT', token: admin, body: { phoneCodes: false } });
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
  page.on('request', (r) => requests.push({ url: r.url(), referer: r.headers()['referer'] ?? '' }));
  return page;
}

async function outbox(to: string): Promise<{ to: string; body: string }[]> {
  const res = await fetch(stack().smsOutboxUrl!);
  return ((await res.json()) as { messages: { to: string; body: string }[] }).messages.filter((m) => m.to === to);
}

async function linkIn(email: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const text = (await mailbox(email)).at(-1)?.body.text ?? '';
    const link = /https?:\/\/\S+\/portal\/register#token=[A-Za-z0-9_-]+/.exec(text)?.[0];
    if (link) return link;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no invitation link');
}

describe('registering with a texted code', () => {
  it(
    'invitation link → "Text me a code instead" → the code from the SMS outbox → Register without the PIN → sign in',
    async () => {
      const patientId = `PCB-${randomUUID().slice(0, 8)}`;
      const email = `${patientId.toLowerCase()}@example.test`;
      const phone = `+1555${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
      expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, phone, cases: ['C-1'] } })).status).toBe(200);
      expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff })).status).toBe(201);
      const link = await linkIn(email);
      const token = new URLSearchParams(new URL(link).hash.slice(1)).get('token')!;

      const page = await open();
      await page.goto(link);
      await page.locator('[data-state="form"]').waitFor({ state: 'visible' });
      const offer = page.getByRole('button', { name: 'Text me a code instead' });
      await offer.waitFor({ state: 'visible' });
      await record(page, 'register-phone-code-offer');
      await offer.click();
      await poll(() => page.locator('#phone-code-status').innerText()).toContain('code is on its way');
      const code = page.getByLabel('Code', { exact: true });
      await code.waitFor({ state: 'visible' });
      expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
      expect(await code.getAttribute('inputmode')).toBe('numeric');
      expect(await page.locator('#pin').isVisible()).toBe(false);
      await record(page, 'register-phone-code-form');

      await poll(async () => (await outbox(phone)).length).toBe(1);
      const text = (await outbox(phone))[0]!.body;
      expect(text).not.toMatch(/https?:|token/);
      const digits = /\b(\d{6})\b/.exec(text)![1]!;

      // A wrong code first: the error names the Code field.
      await code.fill(digits === '000000' ? '000001' : '000000');
      const username = `pcb-${randomUUID().slice(0, 8)}`;
      await page.getByLabel('Username').fill(username);
      await page.locator('#password').fill('violet kestrel lantern harbour');
      await page.getByRole('button', { name: 'Register' }).click();
      await poll(() => page.locator('#register-form-error').innerText()).toMatch(/^Code is not right/);

      await code.fill(digits);
      await page.getByRole('button', { name: 'Register' }).click();
      await page.locator('[data-state="done"]').waitFor({ state: 'visible' });
      expect(await page.locator('#done-username').innerText()).toBe(username);
      await record(page, 'register-phone-code-done');
      expect((await api('/sessions', { method: 'POST', body: { username, password: 'violet kestrel lantern harbour' } })).status).toBe(200);

      // Rule 26: the token never went in a URL or a Referer.
      for (const r of requests) {
        expect(r.url.replace(/#.*$/, '').includes(token)).toBe(false);
        expect(r.referer.includes(token)).toBe(false);
      }
      expect(page.url()).toBe(pageUrl('/portal/register'));
    },
    journey,
  );

  it(
    'no phone on the record: no offer, the PIN as before',
    async () => {
      const patientId = `PCB-${randomUUID().slice(0, 8)}`;
      const email = `${patientId.toLowerCase()}@example.test`;
      expect((await api(`/patients/${patientId}/portal`, { method: 'PUT', token: staff, body: { email, cases: ['C-1'] } })).status).toBe(200);
      expect((await api(`/patients/${patientId}/portal/invitation`, { method: 'POST', token: staff })).status).toBe(201);
      const page = await open(widths.desktop);
      await page.goto(await linkIn(email));
      await page.locator('[data-state="form"]').waitFor({ state: 'visible' });
      expect(await page.locator('#phone-code-offer').isVisible()).toBe(false);
      expect(await page.getByLabel('PIN').isVisible()).toBe(true);
    },
    journey,
  );
});
