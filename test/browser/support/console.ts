/**
 * The staff console in the browser tests: open it, sign a seeded user in as a person would
 * (password, then a TOTP code), or reuse a session; axe and screenshots of a view; and a close
 * that fails on any script error or CSP violation the page reported.
 */
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { freshCode, staffAccessTokens } from '../../integration/support/staff-session.ts';
import { stack } from '../../integration/support/stack.ts';
import { checkAccessibility, newPage, screenshot, watchConsole } from './browser.ts';

declare const sessionStorage: any;

/** expect.poll with room for a loaded machine (its default gives up after 1 s). */
export const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 });

/** axe on the view as it is now, then screenshots at phone and desktop width. */
export async function checkView(page: Page, name: string): Promise<void> {
  await checkAccessibility(page, `console ${name}`);
  const before = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of [390, 1280] as const) {
    await page.setViewportSize({ width, height: 900 });
    await screenshot(page, `console-${name}`);
  }
  await page.setViewportSize(before);
}

const consoleProblems = new WeakMap<Page, string[]>();

export async function openConsolePage(browser: Browser, width = 1280): Promise<Page> {
  const page = await newPage(browser, width);
  consoleProblems.set(page, watchConsole(page));
  await page.goto(new URL('/console', stack().apiUrl).href);
  return page;
}

/** Closes a page, failing on any script error or CSP violation it reported (4xx answers are expected). */
export async function done(page: Page): Promise<void> {
  const problems = (consoleProblems.get(page) ?? []).filter((p) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(p));
  await page.context().close();
  expect(problems).toEqual([]);
}

/**
 * For the tests about what comes after sign-in: the seeded user's session (signed in through
 * TOTP by the shared helper) put where the console keeps it, then the page reloaded. Every code
 * signs a user in once, so a sign-in through the form per test would wait for a new 30-second
 * step each time; the form's own path is tested by the keyboard, permissions and sign-out tests
 * and by staff-console.test.ts.
 */
export async function useSession(page: Page, who: 'admin' | 'staff'): Promise<void> {
  const tokens = await staffAccessTokens();
  const session = { accessToken: tokens[who], username: stack()[who].username, admin: who === 'admin' };
  await page.evaluate((value) => sessionStorage.setItem('portal-console-session', value), JSON.stringify(session));
  await page.reload();
  await page.getByRole('heading', { name: 'Find a patient' }).waitFor();
}

/** Signs a seeded user in as a person would: password, then a code from their authenticator (TOTP). */
export async function signIn(page: Page, who: 'admin' | 'staff'): Promise<void> {
  const { username, password, totpSecret } = stack()[who];
  // Scoped to the form: the Staff page's "Username" field is on the page too (hidden).
  const form = page.locator('#sign-in-form');
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByRole('textbox', { name: 'Code' });
  await code.waitFor();
  await code.fill(await freshCode(username, totpSecret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Find a patient' }).waitFor();
}

