/**
 * Browser helpers: a Chromium found on this machine (or the one inside node_modules) driven by
 * playwright-core (no browser download), axe-core checks, screenshots kept as test artefacts and
 * keyboard-only form filling.
 */
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sparticuz from '@sparticuz/chromium';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { expect } from 'vitest';
import { stack } from '../../integration/support/stack.ts';
import { checkAnswer } from '../../integration/support/contract-check.ts';

// page.evaluate() callbacks run in the browser. The project compiles without the DOM library
// (it would change fetch's types for Node code), so the few browser globals used are declared here.
declare const document: any;
type HTMLElement = any;
declare const HTMLInputElement: any;
type HTMLInputElement = any;

/** Browsers a machine may already have, in the order they are tried after CHROMIUM_PATH. */
export const installedBrowsers = ['/usr/bin/chromium', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/usr/bin/chromium-browser'] as const;

/** Flags for every launch: headless, and no traffic of the browser's own (updates, sync, pings). */
const ownFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Flags @sparticuz/chromium recommends for Lambda that are wrong here. Three would change what the
 * pages are tested against (the tests check the same-origin and mixed-content rules a real browser
 * enforces); `--single-process` (Lambda's sandbox needs it) makes the browser exit when the first
 * context closes: checked on this machine, every test after the first then fails with "Target
 * page, context or browser has been closed".
 */
const unwantedFlags = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process']);

export interface FoundBrowser {
  readonly executablePath: string;
  readonly args: readonly string[];
  /** Where it came from, for the failure message and the log line. */
  readonly source: 'CHROMIUM_PATH' | 'installed' | '@sparticuz/chromium';
}

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The browser the tests drive: CHROMIUM_PATH when set (and then only that, so a wrong path fails
 * loudly instead of silently testing another browser), else Debian's Chromium or an installed
 * Chrome, else the Chromium build shipped inside @sparticuz/chromium (a fresh machine with no apt
 * step: `npm ci && npm test`).
 */
export async function findBrowser(env: NodeJS.ProcessEnv = process.env, installedCandidates: readonly string[] = installedBrowsers): Promise<FoundBrowser> {
  const configured = env.CHROMIUM_PATH;
  if (configured) {
    if (!isExecutable(configured)) throw new Error(`CHROMIUM_PATH=${configured} is not an executable file`);
    return { executablePath: configured, args: ownFlags, source: 'CHROMIUM_PATH' };
  }
  const installed = installedCandidates.find(isExecutable);
  if (installed) return { executablePath: installed, args: ownFlags, source: 'installed' };
  const args = [...new Set([...sparticuz.args.filter((a) => !unwantedFlags.has(a)), ...ownFlags])];
  return { executablePath: await unpackSparticuz(), args, source: '@sparticuz/chromium' };
}

/**
 * Unpacks @sparticuz/chromium once per machine and version into its own folder under the temp
 * directory. The package itself unpacks to `<tmpdir>/chromium` and trusts any file found there,
 * so an unpack killed halfway (Ctrl-C during the ~3 s it takes) would leave a broken browser for
 * every later run. Here it unpacks into a private folder that is renamed into place only when
 * complete: a half-done unpack is never found, and two runs racing both end with a whole one.
 */
async function unpackSparticuz(): Promise<string> {
  // The package's exports hide package.json: read it beside the entry point (build/index.js).
  const packageJson = fileURLToPath(new URL('../package.json', import.meta.resolve('@sparticuz/chromium')));
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const finalDir = path.join(tmpdir(), `portal-access-chromium-${version}`);
  const binary = path.join(finalDir, 'chromium');
  if (existsSync(binary)) return binary;
  const staging = mkdtempSync(`${finalDir}.partial-`);
  const previousTmp = process.env.TMPDIR;
  try {
    // The package writes to os.tmpdir(), which follows TMPDIR: point it at the private folder.
    process.env.TMPDIR = staging;
    const unpacked = await sparticuz.executablePath();
    if (path.dirname(unpacked) !== staging) throw new Error(`@sparticuz/chromium unpacked to ${unpacked}, not to ${staging}`);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
  }
  try {
    renameSync(staging, finalDir);
  } catch (err) {
    // Another run finished first: use its copy, drop ours.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(binary)) throw err;
  }
  return binary;
}

export const widths = { phone: 390, desktop: 1280 } as const;

export const screenshotDir = path.resolve(import.meta.dirname, '..', '..', '..', 'test-results', 'screenshots');

export async function launchBrowser(found?: FoundBrowser): Promise<Browser> {
  found ??= await findBrowser();
  try {
    return await chromium.launch({ executablePath: found.executablePath, args: [...found.args] });
  } catch (err) {
    throw new Error(`could not start the browser from ${found.source} (${found.executablePath}): ${(err as Error).message}`);
  }
}

/** A fresh context (own sessionStorage) and page at a width; height follows a phone or a laptop. */
export async function newPage(browser: Browser, width: number = widths.desktop): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    viewport: { width, height: width <= widths.phone ? 844 : 900 },
    baseURL: stack().apiUrl,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // The pages' own API calls keep the contract too (support/contract-check.ts); a violation fails the test in afterEach.
  page.on('response', (res) => {
    if (['fetch', 'xhr'].includes(res.request().resourceType())) void checkPageAnswer(res);
  });
  return page;
}

/** The absolute URL of a page of the local stack. */
export const pageUrl = (pathAndQuery: string): string => new URL(pathAndQuery, stack().apiUrl).href;

/** axe-core on the page as it is now: fails on any serious or critical violation, listing them. */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const described = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(described, `axe on ${name}`).toEqual([]);
}

/**
 * A full-page PNG at the page's current width, kept in test-results/screenshots/<name>-<width>.png
 * (test-results/ is gitignored: these are the run's artefacts).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const file = path.join(screenshotDir, `${name}-${width}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * What every page state gets: axe (zero serious or critical violations; run once, at phone
 * width, to keep the suite quick on a busy machine), a check that nothing is wider than a phone,
 * and a screenshot at phone and at desktop width; then the page's own width back.
 */
export async function record(page: Page, name: string): Promise<void> {
  const original = page.viewportSize() ?? { width: widths.desktop, height: 900 };
  try {
    for (const width of [widths.phone, widths.desktop]) {
      await page.setViewportSize({ width, height: width === widths.phone ? 844 : 900 });
      if (width === widths.phone) {
        await checkAccessibility(page, `${name} at ${width} px`);
        // Nothing wider than the screen: no sideways scrolling on a phone.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} fits ${width} px`).toBeLessThanOrEqual(0);
      }
      await screenshot(page, name);
    }
  } finally {
    await page.setViewportSize(original);
  }
}

/**
 * Fills a form with the keyboard alone: focuses the first field by Tab from the top of the page,
 * then types each value and tabs on (skipping what is not a text field, such as "Show password"),
 * and submits with Enter. `values` are in the order the fields appear; each is matched to the
 * focused field's label, so a wrong order fails.
 */
export async function fillWithKeyboard(page: Page, formSelector: string, values: ReadonlyArray<readonly [label: string, value: string]>): Promise<void> {
  const firstId = await page.locator(`${formSelector} input:not([type=checkbox])`).first().getAttribute('id');
  // Start from the top of the document and Tab until the form's first field has focus.
  await page.locator('body').evaluate((body) => (body as HTMLElement).focus());
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < 40 && (await activeId(page)) !== firstId; i++) await page.keyboard.press('Tab');
  expect(await activeId(page), `Tab reaches the first field of ${formSelector}`).toBe(firstId);
  for (const [index, [label, value]] of values.entries()) {
    if (index > 0) {
      // Tab to the next text field (past checkboxes and links).
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(() => document.activeElement instanceof HTMLInputElement && document.activeElement.type !== 'checkbox')) break;
      }
    }
    const focusedLabel = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      return el?.labels?.[0]?.textContent?.trim() ?? '';
    });
    expect(focusedLabel, `focused field for ${label}`).toBe(label);
    await page.keyboard.type(value);
  }
  await page.keyboard.press('Enter');
}

const activeId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

/** The security headers every page must carry. */
export const expectedPageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const;

/** Collects console errors and CSP violations a page reports, to assert there are none. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

async function checkPageAnswer(res: Response): Promise<void> {
  const text = await res.text().catch(() => undefined);
  if (text === undefined) return; // a redirect or an aborted request has no body to check
  const answer = { method: res.request().method(), url: res.url(), status: res.status(), contentType: res.headers()['content-type'], text };
  await checkAnswer(stack().apiUrl, answer).catch(() => undefined); // remembered for afterEach
}
