/**
 * Issue 12, "Done when": in Chromium, an admin creates a staff user in the console; that user
 * signs in with the temporary password, sets a new one, enrols TOTP from the QR code's key, signs
 * out, and signs in again with a code. And the admin's Staff page: disable (the user's tokens
 * stop at once), enable, and a reset authenticator that makes the user enrol again.
 *
 * The local stack requires TOTP like AWS (the seeded users' codes come from stack.json's
 * totpSecret; a new user's enrolment runs through the local MFA_SETUP layer, see
 * lib/local/README.md). A code signs a user in once, so a second sign-in of the same user
 * waits for the next 30-second step (freshCode).
 */
import type { Browser, Page } from 'playwright-core';
import qrcode from 'qrcode-generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstSignIn, freshCode, signInWithTotp, staffAccessTokens } from '../integration/support/staff-session.ts';
import { api, stack } from '../integration/support/stack.ts';
import { launchBrowser } from './support/browser.ts';
import { checkView, done, openConsolePage, poll, signIn, useSession } from './support/console.ts';

declare const document: any;

const run = Date.now().toString(36);
let browser: Browser;
let adminToken: string;

beforeAll(async () => {
  browser = await launchBrowser();
  adminToken = (await staffAccessTokens()).admin;
});

afterAll(async () => {
  await browser?.close();
});

/** The dark modules of the QR code as drawn: one "M{x} {y}h1v1h-1z" per module, quiet zone included. */
async function drawnModules(page: Page): Promise<{ size: number; dark: Set<string> }> {
  const { viewBox, d } = await page.locator('#mfa-qr svg').evaluate((svg: any) => ({
    viewBox: svg.getAttribute('viewBox') as string,
    d: svg.querySelector('path').getAttribute('d') as string,
  }));
  const size = Number(viewBox.split(' ')[2]);
  const dark = new Set([...d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)].map((m) => `${m[1]},${m[2]}`));
  return { size, dark };
}

/** What the text encodes as a QR code (error correction M, 4 modules of quiet zone). */
function expectedModules(text: string): { size: number; dark: Set<string> } {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const dark = new Set<string>();
  for (let row = 0; row < count; row++) for (let col = 0; col < count; col++) if (qr.isDark(row, col)) dark.add(`${col + 4},${row + 4}`);
  return { size: count + 8, dark };
}

/** Password, then the code step. */
async function passwordStep(page: Page, username: string, password: string): Promise<void> {
  const form = page.locator('#sign-in-form');
  await form.getByLabel('Username', { exact: true }).fill(username);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

async function openStaffPage(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Staff', exact: true }).click();
  await poll(() => page.locator('#staff-summary').textContent()).toMatch(/^\d+ staff users?\.$/);
}

const rowOf = (page: Page, username: string) => page.locator(`#staff-rows tr[data-staff-row="${username}"]`);
const cells = async (page: Page, username: string) => (await rowOf(page, username).locator('th, td').allTextContents()).slice(0, 6);

describe('staff administration and first sign-in in the console', { timeout: 240_000 }, () => {
  it('an admin creates a staff user; they sign in with the temporary password, set a new one, enrol TOTP from the QR code, sign out, and sign in again with a code', async () => {
    const username = `newstaff-${run}`;
    const email = `${username}@example.test`;

    // The admin signs in with a code from the seeded totpSecret and sees their own role.
    const admin = await openConsolePage(browser);
    await signIn(admin, 'admin');
    await poll(() => admin.locator('#who-role').textContent()).toBe('Role: administrator');
    await openStaffPage(admin);
    await checkView(admin, 'staff-list');

    const createForm = admin.locator('#staff-create-form');
    await createForm.getByLabel('Username', { exact: true }).fill(username);
    await createForm.getByLabel('Email', { exact: true }).fill(email);
    await createForm.getByRole('radio', { name: 'Staff', exact: true }).check();
    await admin.getByRole('button', { name: 'Create staff user' }).click();
    const slip = admin.locator('#staff-slip');
    await slip.waitFor();
    expect(await admin.locator('#staff-slip-username').textContent()).toBe(username);
    const temporaryPassword = (await admin.locator('#staff-slip-password').textContent()) ?? '';
    expect(temporaryPassword.length).toBeGreaterThanOrEqual(16);
    expect(await admin.locator('#staff-slip-expiry').textContent()).not.toBe('');
    expect(await slip.textContent()).toContain('Print this slip or copy the password');
    expect(await admin.getByRole('button', { name: 'Print slip' }).isVisible()).toBe(true);
    expect(await admin.getByRole('button', { name: 'Copy password' }).isVisible()).toBe(true);
    await poll(() => cells(admin, username)).toEqual([username, email, 'Staff', 'Enabled', 'Not set up', expect.any(String)]);
    await checkView(admin, 'staff-created');
    // Shown once: "Done" removes it from the page, not only from view.
    await admin.getByRole('button', { name: 'Done' }).click();
    expect(await slip.isHidden()).toBe(true);
    expect(await admin.evaluate(() => document.body.textContent)).not.toContain(temporaryPassword);

    // The new user, on a phone: temporary password → a new password of their own.
    const user = await openConsolePage(browser, 390);
    const requests: string[] = [];
    user.on('request', (r) => requests.push(r.url()));
    await passwordStep(user, username, temporaryPassword);
    await user.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    await checkView(user, 'new-password');
    await user.getByLabel('New password', { exact: true }).fill('short');
    await user.getByRole('button', { name: 'Set new password' }).click();
    await poll(() => user.locator('#new-password-error').textContent()).toBe('New password: use at least 15 characters.');
    expect(await user.locator('#new-password-error').getAttribute('role')).toBe('alert');
    const newPassword = `harbour lantern ${run} quietly`;

    // → the authenticator set-up: a QR code of the otpauth URI the API answered, the key beside it.
    const enrolment = user.waitForResponse(
      async (r) => r.url().endsWith('/staff/sessions/challenge') && r.request().method() === 'POST' && JSON.parse(r.request().postData() ?? '{}').code === undefined && (await r.json().catch(() => ({}))).secretCode !== undefined,
    );
    await user.getByLabel('New password', { exact: true }).fill(newPassword);
    await user.getByRole('button', { name: 'Set new password' }).click();
    await user.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
    const { otpauthUri, secretCode } = await (await enrolment).json();
    const shownKey = ((await user.locator('#mfa-secret').textContent()) ?? '').replace(/\s+/g, '');
    expect(shownKey).toBe(secretCode);
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(new URL(otpauthUri).searchParams.get('secret')).toBe(shownKey);
    const drawn = await drawnModules(user);
    const expected = expectedModules(otpauthUri);
    expect(drawn.size).toBe(expected.size);
    expect(drawn.dark).toEqual(expected.dark);
    expect(await user.locator('#mfa-qr svg').getAttribute('role')).toBe('img');
    const codeField = user.getByRole('textbox', { name: 'Code' });
    expect(await codeField.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeField.getAttribute('inputmode')).toBe('numeric');
    await checkView(user, 'mfa-setup');

    // A code that is not 6 digits is refused in words before anything is sent.
    await codeField.fill('12');
    await user.getByRole('button', { name: 'Finish set-up' }).click();
    await poll(() => user.locator('#mfa-setup-error').textContent()).toBe('Code: enter the 6 digits your authenticator app shows.');

    // The key read from the page is what the authenticator app would hold.
    await codeField.fill(await freshCode(username, shownKey));
    await user.getByRole('button', { name: 'Finish set-up' }).click();
    await user.getByRole('heading', { name: 'Find a patient' }).waitFor();
    expect(await user.locator('#who').textContent()).toBe(username);
    await poll(() => user.locator('#who-role').textContent()).toBe('Role: staff');
    // The key and the QR code left the page with the sign-in.
    expect(await user.locator('#mfa-qr svg').count()).toBe(0);
    expect(await user.evaluate(() => document.body.textContent)).not.toContain(secretCode);
    // Nothing came from another origin (the QR code is drawn here): every request since the page
    // loaded, the modules included (the browser's resource timing lists those fetched at load).
    const loaded: string[] = await user.evaluate(() => (globalThis as any).performance.getEntriesByType('resource').map((e: any) => e.name));
    const origin = new URL(stack().apiUrl).origin;
    expect([...loaded, ...requests].filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(loaded.some((url) => url.endsWith('/assets/vendor-qrcode-generator.js'))).toBe(true);

    // Sign out; sign in again with the new password and a code (the next 30-second step's).
    await user.getByRole('button', { name: 'Sign out' }).click();
    await user.getByRole('heading', { name: 'Staff sign-in' }).waitFor();
    await passwordStep(user, username, newPassword);
    await user.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
    await user.getByRole('textbox', { name: 'Code' }).fill(await freshCode(username, shownKey));
    await user.getByRole('button', { name: 'Sign in' }).click();
    await user.getByRole('heading', { name: 'Find a patient' }).waitFor();
    expect(await user.locator('#who').textContent()).toBe(username);
    await done(user);

    // The admin's list now shows the authenticator set up.
    await admin.getByRole('button', { name: 'Patients' }).click();
    await openStaffPage(admin);
    await poll(() => cells(admin, username)).toEqual([username, email, 'Staff', 'Enabled', 'Set up', expect.any(String)]);
    await done(admin);
  });

  it('disable ends the user\'s sessions at once and enable lets them back; reset authenticator makes them enrol again; a wrong code is refused in words', async () => {
    const username = `staffops-${run}`;
    const created = await api('/staff', { method: 'POST', token: adminToken, body: { username, email: `${username}@example.test`, role: 'staff' } });
    expect(created.status).toBe(201);
    const newPassword = `copper meadow ${run} patiently`;
    const { secret, tokens } = await firstSignIn(username, created.json.temporaryPassword, newPassword);
    expect((await api('/staff/me', { token: tokens.accessToken })).status).toBe(200);

    const admin = await openConsolePage(browser);
    await useSession(admin, 'admin');
    await openStaffPage(admin);
    await poll(() => cells(admin, username)).toEqual([username, `${username}@example.test`, 'Staff', 'Enabled', 'Set up', expect.any(String)]);

    // Disable asks first; then the user's token is refused on its next request.
    await admin.getByRole('button', { name: `Disable ${username}` }).click();
    const dialog = admin.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(`Disable ${username}?`);
    await dialog.getByRole('button', { name: 'Disable' }).click();
    await poll(() => cells(admin, username)).toEqual([username, `${username}@example.test`, 'Staff', 'Disabled', 'Set up', expect.any(String)]);
    expect((await api('/staff/me', { token: tokens.accessToken })).status).toBe(401);
    await checkView(admin, 'staff-disabled');

    await admin.getByRole('button', { name: `Enable ${username}` }).click();
    await poll(() => cells(admin, username)).toEqual([username, `${username}@example.test`, 'Staff', 'Enabled', 'Set up', expect.any(String)]);
    const again = await signInWithTotp(username, newPassword, secret);
    expect((await api('/staff/me', { token: again.accessToken })).status).toBe(200);

    // In the browser, a wrong code is refused in words and the step stays.
    const user = await openConsolePage(browser, 390);
    await passwordStep(user, username, newPassword);
    await user.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
    const right = await freshCode(username, secret);
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    await user.getByRole('textbox', { name: 'Code' }).fill(wrong);
    await user.getByRole('button', { name: 'Sign in' }).click();
    await poll(() => user.locator('#mfa-code-error').textContent()).toMatch(/^That code is not right/);
    expect(await user.locator('#signed-in').isHidden()).toBe(true);
    await done(user);

    // A lost authenticator: after the reset the next sign-in sets one up again.
    await admin.getByRole('button', { name: `Reset authenticator ${username}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Reset authenticator' }).click();
    await poll(() => admin.locator('#console-status').textContent()).toBe(`The authenticator of ${username} is reset: they set one up again at their next sign-in.`);
    const next = await api('/staff/sessions', { method: 'POST', body: { username, password: newPassword } });
    expect.soft(next.json).toMatchObject({ challenge: 'MFA_SETUP' });
    await poll(() => cells(admin, username)).toEqual([username, `${username}@example.test`, 'Staff', 'Enabled', 'Not set up', expect.any(String)]);
    await done(admin);
  });
});
