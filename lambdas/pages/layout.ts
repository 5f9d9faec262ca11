/**
 * Server-side HTML for the pages: an `html` tagged template that escapes every interpolation
 * (so nothing a caller passes can become markup), `raw()` for markup we built ourselves, and the
 * one page skeleton. Pages carry no inline script or style: the CSP forbids both.
 */

const RAW = Symbol('raw-html');

/** Markup that is already safe: the output of `html` or a constant we wrote. */
export interface RawHtml {
  readonly [RAW]: true;
  readonly value: string;
}

export const raw = (value: string): RawHtml => ({ [RAW]: true, value });

const isRaw = (v: unknown): v is RawHtml => typeof v === 'object' && v !== null && RAW in v;

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Interpolation = string | number | boolean | null | undefined | RawHtml | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (isRaw(value)) return value.value;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): RawHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return raw(out);
}

export interface PageOptions {
  /** The document title (also the default heading). */
  title: string;
  /** The content of <main>; it should start with an <h1>. */
  body: RawHtml;
  /** Browser modules under /assets/, by file name (e.g. "portal.js"). */
  scripts?: readonly string[];
  /** Style sheets under /assets/, besides site.css. */
  styles?: readonly string[];
  /**
   * The relative path from the page to /assets/ ("../assets/" from /portal/x, "assets/" from
   * /console): relative so the pages work under an API Gateway stage prefix too.
   */
  assetBase: string;
  /** The relative path from the page to the API root, for the scripts (data-api-base). */
  apiBase?: string;
  /** Extra data-* attributes on <body>, for the scripts (already without the "data-" prefix). */
  data?: Readonly<Record<string, string>>;
}

export function renderPage(options: PageOptions): string {
  const styles = ['site.css', ...(options.styles ?? [])];
  const data = { 'api-base': options.apiBase ?? options.assetBase.replace(/assets\/$/, ''), ...options.data };
  const dataAttributes = Object.entries(data).map(([k, v]) => html` data-${raw(k.replace(/[^a-z0-9-]/g, ''))}="${v}"`);
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title}</title>
${styles.map((s) => html`<link rel="stylesheet" href="${options.assetBase}${s}">\n`)}${(options.scripts ?? []).map(
    (s) => html`<script type="module" src="${options.assetBase}${s}"></script>\n`,
  )}</head>
<body${dataAttributes}>
<a class="skip-link" href="#main">Skip to content</a>
<main id="main" tabindex="-1">
${options.body}
</main>
</body>
</html>
`;
  return doc.value;
}
