/**
 * The browser files of the pages (lambdas/pages/static): read once at cold start into an
 * allowlist, so GET /assets/{file} can only ever answer one of these files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const assetNamePattern = /^[a-z0-9-]+\.(js|css)$/;

const contentTypes = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

export interface Asset {
  readonly contentType: string;
  readonly text: string;
}

/**
 * Where the files are. In Lambda the stack copies the folder next to the bundle (esbuild's CJS
 * output has an empty import.meta, so it must not be read there); locally they sit beside this module.
 */
export function staticFolder(): string {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  if (taskRoot) return path.join(taskRoot, 'static');
  return fileURLToPath(new URL('./static/', import.meta.url));
}

/**
 * Third-party browser files sit in `static/vendor/`, byte for byte as their npm package ships them
 * (test/unit/pages/vendor-assets.test.ts holds each to its package's file, so an upgrade cannot
 * leave a stale copy), and are served as `vendor-<name>`: e.g. qrcode-generator's ES module
 * (node_modules/qrcode-generator/dist/qrcode.mjs, MIT, its licence header kept) as
 * /assets/vendor-qrcode-generator.js, drawing the TOTP enrolment QR code on our own origin.
 */
export const vendorFolder = 'vendor';
export const vendorPrefix = 'vendor-';

export function loadAssets(folder: string = staticFolder()): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      const match = assetNamePattern.exec(name);
      if (!match) continue;
      const ext = match[1] as keyof typeof contentTypes;
      assets.set(`${prefix}${name}`, { contentType: contentTypes[ext], text: readFileSync(path.join(dir, name), 'utf8') });
    }
  };
  add(folder, '');
  if (existsSync(path.join(folder, vendorFolder))) add(path.join(folder, vendorFolder), vendorPrefix);
  return assets;
}
