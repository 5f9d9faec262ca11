import { defineConfig } from 'vitest/config';

// Three suites, one command (npm test):
// - unit: domain modules and handlers with aws-sdk-client-mock; no network.
// - cdk: assertions and cdk-nag on the synthesized template (bundles every function once).
// - integration: the real local emulators, started once per run by the global setup, driven over HTTP.
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
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // One shared stack (and one test clock): files run one after another.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
