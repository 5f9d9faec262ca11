import { defineConfig } from 'vitest/config';

// The tests Stryker runs against each mutant: the unit and handler tests (no network, no
// emulators), the same files and setup as the `unit` project of the main config. Integration tests
// are left out on purpose: a mutant must be killed by a test that names the rule.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/handlers/**/*.test.ts'],
    exclude: ['test/unit/bench/**'],
    setupFiles: ['test/handlers/env.ts'],
    // Under Stryker on a shared machine a test may run several times slower than alone (scrypt,
    // twenty concurrent sign-ins): a 5 s default fails the initial run. Stryker's own timeoutMS
    // still ends a mutant that loops.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
