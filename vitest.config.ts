import { defineConfig } from "vitest/config";

/**
 * One `npm test` runs every tier: unit (test/unit), store and bus contract suites on every adapter
 * present (test/contract), and API tests against a real server over HTTP and graphql-ws
 * (test/api), and the web client in headless Chromium (test/browser). Suites for external
 * services (and Chromium) run when the service answers; with CI=true a service that does not
 * answer fails the run instead (test/support/services.ts, test/support/browser.ts).
 *
 * The fault tiers (test/faults: replicated clusters started by the tier itself, nodes killed under
 * load) run after everything else, one file at a time, so a multi-node cluster starting up never
 * competes for the 2 cores with a timing-sensitive suite.
 */
const shared = {
  include: ["test/**/*.test.ts"],
  globalSetup: ["test/support/global-setup.ts"],
  testTimeout: 20_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) copies; Node loads the CJS one for libraries
    // (Pothos, yoga), so tests must use it too or "another realm" instanceof checks fail.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    reporters: ["default"],
    projects: [
      {
        extends: true,
        // Each embedded database takes ~0.5 GB and a core while it opens: two files at a time.
        test: { ...shared, name: "main", exclude: ["test/faults/**", "**/node_modules/**"], maxWorkers: 2 },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: "faults",
          include: ["test/faults/**/*.test.ts"],
          fileParallelism: false,
          // A tier starts its own cluster (up to a few minutes on 2 cores) in beforeAll.
          hookTimeout: 600_000,
          testTimeout: 300_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
