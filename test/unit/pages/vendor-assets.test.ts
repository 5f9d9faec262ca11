/**
 * The third-party browser files the pages serve (lambdas/pages/static/vendor) are exact copies of
 * what their npm packages ship: an upgrade of the package with a stale copy left behind fails
 * here, and the served asset is that same file.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAssets, staticFolder } from '../../../lambdas/pages/assets.ts';

const require = createRequire(import.meta.url);
/** A file of an installed package, found from its main entry (packages' exports hide package.json). */
function packageFile(pkg: string, file: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (!dir.endsWith(path.join('node_modules', pkg))) {
    if (dir === path.dirname(dir)) throw new Error(`${pkg} is not installed under node_modules`);
    dir = path.dirname(dir);
  }
  return path.join(dir, file);
}

/** vendor file → the package file it copies. */
const vendored = [{ asset: 'vendor-qrcode-generator.js', vendorFile: 'qrcode-generator.js', pkg: 'qrcode-generator', file: 'dist/qrcode.mjs' }];

describe('vendored browser files', () => {
  for (const { asset, vendorFile, pkg, file } of vendored) {
    it(`${vendorFile} is ${pkg}/${file} byte for byte, licence header included, and served as /assets/${asset}`, () => {
      const fromPackage = readFileSync(packageFile(pkg, file), 'utf8');
      const copy = readFileSync(path.join(staticFolder(), 'vendor', vendorFile), 'utf8');
      expect(copy === fromPackage, `lambdas/pages/static/vendor/${vendorFile} differs from node_modules/${pkg}/${file}: copy it again`).toBe(true);
      expect(copy).toContain('Licensed under the MIT license');
      const served = loadAssets().get(asset);
      expect(served?.contentType).toBe('text/javascript; charset=utf-8');
      expect(served?.text === fromPackage).toBe(true);
    });
  }

  it('the vendor folder is served only under the vendor- prefix, so a vendored file cannot shadow one of ours', () => {
    const names = [...loadAssets().keys()];
    expect(names).toContain('console.js');
    expect(names).not.toContain('qrcode-generator.js');
    expect(names.filter((n) => n.startsWith('vendor-'))).toEqual(vendored.map((v) => v.asset));
  });
});
