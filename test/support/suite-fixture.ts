import { afterAll, beforeAll, type TestContext } from "vitest";

/**
 * The per-suite backend of a contract suite: created once before the suite's tests (unless
 * `available` says the backend is absent, which locally skips each test with the reason and in
 * CI throws, failing the run), closed after them. Call inside `describe`; the returned function
 * gives a test its fixture.
 */
export function suiteFixture<F extends { close(): Promise<void> }>(
  name: string,
  factory: () => Promise<F>,
  available?: () => Promise<boolean>,
): (ctx: TestContext) => F {
  let fixture: F | undefined;
  beforeAll(async () => {
    if (available && !(await available())) return;
    fixture = await factory();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  return (ctx) => {
    const current = fixture;
    if (!current) return ctx.skip(`${name}: backing service not available`);
    return current;
  };
}
