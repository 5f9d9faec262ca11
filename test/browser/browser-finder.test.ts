/**
 * Issue 12 item 8: the browser tests find a browser on a fresh machine with no apt step. These
 * run the fallback (@sparticuz/chromium from node_modules) even where Debian's Chromium is
 * installed, so CI proves the fresh-machine path too.
 */
import { writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBrowser, launchBrowser } from './support/browser.ts';

describe('the browser the tests drive', () => {
  it('CHROMIUM_PATH is used alone: a path that is not an executable fails, naming it, instead of quietly testing another browser', async () => {
    const notABrowser = path.join(tmpdir(), `not-a-browser-${process.pid}`);
    writeFileSync(notABrowser, 'plain text');
    chmodSync(notABrowser, 0o644);
    await expect(findBrowser({ CHROMIUM_PATH: notABrowser })).rejects.toThrow(`CHROMIUM_PATH=${notABrowser} is not an executable file`);
    await expect(findBrowser({ CHROMIUM_PATH: '/nowhere/chromium' })).rejects.toThrow('CHROMIUM_PATH=/nowhere/chromium');
  });

  it('with no browser installed, the Chromium inside node_modules starts and keeps running after a context closes, with the web-security flags left on', async () => {
    const found = await findBrowser({}, []);
    expect(found.source).toBe('@sparticuz/chromium');
    expect(found.args).toContain('--headless');
    for (const weakening of ['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process']) {
      expect(found.args).not.toContain(weakening);
    }
    // The unpacked copy is reused: a second look finds the same binary without unpacking again.
    expect((await findBrowser({}, [])).executablePath).toBe(found.executablePath);

    const browser = await launchBrowser(found);
    try {
      for (const round of [1, 2]) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.setContent(`<p>round ${round}</p>`);
        expect(await page.textContent('p')).toBe(`round ${round}`);
        await context.close();
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});
