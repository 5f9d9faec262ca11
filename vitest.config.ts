import { defineConfig } from 'vitest/config';

// Three suites, one command (npm test):
// - unit: domain modules and handlers with aws-sdk-client-mock; no network.
// - cdk: assertions and cdk-nag on the synthesized template (bundles every function once).
// - integration: the real local emulators, started once per run by the global setup, driven over
//   HTTP, and the pages driven in Chromium (test/browser).
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/handlers/**/*.test.ts'],
          setupFiles: ['test/handlers/env.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cdk',
          include: ['test/cdk/**/*.test.ts'],
          // One synthesis bundles every function (40+ with the pages): minutes on a busy machine.
          testTimeout: 180_000,
          hookTimeout: 420_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // The browser tests drive the pages in Debian's Chromium (playwright-core, no browser
          // download) against this same stack: the local server runs the handlers in this process,
          // and a second stack in the same process would share their modules and configuration.
          // Screenshots go to test-results/screenshots/.
          include: ['test/integration/**/*.test.ts', 'test/browser/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // contract-setup.ts: every answer from the API is checked against GET /openapi.json (issue 14).
          setupFiles: ['test/integration/support/fresh-address-window.ts', 'test/integration/support/contract-setup.ts'],
          // One shared stack (and one test clock): files run one after another.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
