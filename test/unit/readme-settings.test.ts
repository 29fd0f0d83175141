import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configVariableNames } from "../../src/config.js";
import { BUCKETS, formatRule } from "../../src/limits/rate-limit-rules.js";

/** The README is where operators learn the settings: every one the code reads must be there. */
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("documents every environment variable the configuration reads", () => {
    const missing = configVariableNames().filter((name) => !README.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("lists every rate-limit bucket with its default and its setting", () => {
    for (const [name, def] of Object.entries(BUCKETS)) {
      expect(README, name).toContain(`| \`${name}\` | ${def.counts} | ${formatRule(def.default)} | \`RATE_LIMIT_${def.setting}\` |`);
    }
  });
});
