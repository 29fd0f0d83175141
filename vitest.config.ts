import { defineConfig } from "vitest/config";

/**
 * One `npm test` runs every tier: unit (test/unit), store and bus contract suites on every adapter
 * present (test/contract), and API tests against a real server over HTTP and graphql-ws
 * (test/api), and the web client in headless Chromium (test/browser). Suites for external
 * services (and Chromium) run when the service answers; with CI=true a service that does not
 * answer fails the run instead (test/support/services.ts, test/support/browser.ts).
 */
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) copies; Node loads the CJS one for libraries
    // (Pothos, yoga), so tests must use it too or "another realm" instanceof checks fail.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Each embedded database takes ~0.5 GB and a core while it opens: two files at a time.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
