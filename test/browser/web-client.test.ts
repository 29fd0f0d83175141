import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureWebClientBuilt, requireChromium } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The reference web client (examples/web) in headless Chromium against a real server that
 * serves it at /app: two people in two browser contexts sign up, meet through an invite and
 * chat live, with typing, presence, edits, deletions, unread badges and scroll-back. Every wait
 * is on a condition in the page (generous timeouts for a loaded 2-core box), never a sleep.
 */
const chromiumPath = await requireChromium();

const WAIT_MS = 30_000;
const PASSWORD = "correct horse battery";
/** The README's screenshot is refreshed with UPDATE_SCREENSHOT=1; other runs write theirs under .ci/out, leaving the tree clean. */
const SCREENSHOT = new URL(process.env.UPDATE_SCREENSHOT === "1" ? "../../docs/web-client.png" : "../../.ci/out/web-client.png", import.meta.url);
const SEEDED = 120;

/** The page's document, as far as the predicates below use it (the root tsconfig has no DOM types). */
declare const document: {
  querySelector(selector: string): { textContent: string | null; scrollTop: number; dataset: Record<string, string | undefined> } | null;
  querySelectorAll(selector: string): { length: number };
};
/** The sockets each page opened, kept by {@link KEEP_SOCKETS} so a test can drop one. */
declare const window: { concordSockets: { readyState: number; close(code?: number, reason?: string): void }[] };

/** Runs before the page's scripts: every WebSocket the page opens is kept in `window.concordSockets`. */
const KEEP_SOCKETS = `{
  const Native = window.WebSocket;
  window.concordSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      window.concordSockets.push(this);
    }
  };
}`;

/** Waits until `predicate(arg)` is true in the page. */
async function until<A extends string | number | null>(page: Page, predicate: (arg: A) => boolean, arg: A): Promise<void> {
  await page.waitForFunction(predicate as (arg: unknown) => boolean, arg, { timeout: WAIT_MS, polling: 50 });
}

/** Rows currently in the open channel's message list. */
const rows = (page: Page) => page.locator('[data-testid="messages"] [data-testid="message"]');

describe.skipIf(chromiumPath === null)("the web client in Chromium", () => {
  let server: TestServer;
  let browser: Browser;
  let ada: Page;
  let charles: Page;
  /** Script errors and console errors of both pages (a CSP violation is one): the test ends with none. */
  const pageProblems: string[] = [];
  // Every test server has a database of its own: the names are free.
  const names = { ada: "ada", charles: "charles" };

  beforeAll(async () => {
    // The server reads the build on the first request for /app, so all three start at once.
    const [started, launched] = await Promise.all([
      startTestServer(),
      chromium.launch({ executablePath: chromiumPath!, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] }),
      ensureWebClientBuilt(),
    ]);
    server = started;
    browser = launched;
    const open = async () => {
      const context = await browser.newContext({ viewport: { width: 1200, height: 720 }, deviceScaleFactor: 1 });
      context.setDefaultTimeout(WAIT_MS);
      await context.addInitScript(KEEP_SOCKETS);
      const page = await context.newPage();
      page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") pageProblems.push(`console: ${message.text()}`);
      });
      return page;
    };
    [ada, charles] = await Promise.all([open(), open()]);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signUp(page: Page, username: string): Promise<void> {
    await page.goto(`http://127.0.0.1:${server.app.port}/app/`);
    await page.getByTestId("username").fill(username);
    await page.getByTestId("password").fill(PASSWORD);
    await page.getByTestId("sign-up").click();
    await page.getByTestId("me").filter({ hasText: username }).waitFor();
  }

  /** The session the page keeps, to seed data over the API as that person. */
  const tokenOf = async (page: Page) => (JSON.parse((await page.evaluate(() => localStorage.getItem("concord.session")))!) as { token: string }).token;

  it(
    "two people meet through an invite and chat live, with typing, presence, badges and scroll-back",
    async () => {
      // Both sign up; Ada creates a guild and an invite; Charles joins with the code.
      await Promise.all([signUp(ada, names.ada), signUp(charles, names.charles)]);
      await ada.getByTestId("create-guild-input").fill("Analytical Engines");
      await ada.getByTestId("create-guild-submit").click();
      await ada.getByTestId("guild-name").filter({ hasText: "Analytical Engines" }).waitFor();
      await ada.getByTestId("create-invite").click();
      const code = await ada.getByTestId("invite-code").inputValue();
      await charles.getByTestId("join-guild-input").fill(code);
      await charles.getByTestId("join-guild-submit").click();
      await charles.getByTestId("guild-name").filter({ hasText: "Analytical Engines" }).waitFor();

      // Both are in #general with its live stream open; each sees the other online.
      for (const page of [ada, charles]) await page.locator('[data-testid="messages"][data-live="true"]').waitFor();
      await ada.locator(`[data-testid="member"][data-presence="ONLINE"]`, { hasText: names.charles }).waitFor();
      await charles.locator(`[data-testid="member"][data-presence="ONLINE"]`, { hasText: names.ada }).waitFor();

      // Charles types: Ada sees it; Charles sends: Ada sees the message and the indicator clears.
      await charles.getByTestId("composer").pressSequentially("Hello Ada, is the engine running?");
      await ada.getByTestId("typing").filter({ hasText: `${names.charles} is typing` }).waitFor();
      await charles.getByTestId("composer").press("Enter");
      await ada.locator('[data-testid="message"]', { hasText: "Hello Ada, is the engine running?" }).waitFor();
      await until(ada, () => document.querySelector('[data-testid="typing"]')!.textContent === "", null);

      // Ada answers; Charles sees it live.
      await ada.getByTestId("composer").fill("It computes Bernoulli numbers.");
      await ada.getByTestId("composer").press("Enter");
      const adaMessage = charles.locator(`[data-testid="message"][data-author="${names.ada}"]`);
      await adaMessage.filter({ hasText: "It computes Bernoulli numbers." }).waitFor();

      // Ada edits her message, then sends and deletes another: Charles sees both live.
      const mine = ada.locator('[data-testid="message"]', { hasText: "It computes Bernoulli numbers." });
      await mine.hover();
      await mine.getByTestId("edit").click();
      await ada.getByTestId("edit-input").fill("It computes Bernoulli numbers, and more.");
      await ada.getByTestId("edit-input").press("Enter");
      await adaMessage.filter({ hasText: "and more." }).getByTestId("edited").waitFor();
      await ada.getByTestId("composer").fill("A message with a typo");
      await ada.getByTestId("composer").press("Enter");
      await charles.locator('[data-testid="message"]', { hasText: "A message with a typo" }).waitFor();
      const typo = ada.locator('[data-testid="message"]', { hasText: "A message with a typo" });
      await typo.hover();
      await typo.getByTestId("delete").click();
      await charles.locator('[data-testid="message"]', { hasText: "A message with a typo" }).waitFor({ state: "detached" });

      await charles.getByTestId("composer").fill("Splendid. I will keep the notes in #history.");
      await charles.getByTestId("composer").press("Enter");
      await ada.locator('[data-testid="message"]', { hasText: "Splendid." }).waitFor();

      // A new channel with 120 messages: it appears for Charles with an unread badge, live.
      const token = await tokenOf(ada);
      const guildId = await ada.getByTestId("guild").first().getAttribute("data-guild-id");
      const history = (await server.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "history" }) { id } }`, { g: guildId }, token)).createChannel.id as string;
      // (Its stream is live before anything is sent, so every message counts.)
      await charles.locator(`[data-testid="channel"][data-channel-id="${history}"][data-live="true"]`).waitFor();
      for (let i = 1; i <= SEEDED; i++) {
        await server.ok(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: history, t: `Note ${i} of ${SEEDED}` }, token);
      }
      await charles.locator(`[data-testid="channel"][data-channel-id="${history}"] [data-testid="channel-unread"]`, { hasText: "99+" }).waitFor();

      // Ada starts typing in #general: the screenshot shows Charles's screen with all of it.
      await ada.getByTestId("composer").pressSequentially("Shall we");
      await charles.getByTestId("typing").filter({ hasText: `${names.ada} is typing` }).waitFor();
      await mkdir(new URL(".", SCREENSHOT), { recursive: true });
      await charles.screenshot({ path: fileURLToPath(SCREENSHOT) });

      // Charles opens #history: the newest page, then older pages as he scrolls up, down to the first.
      await charles.locator(`[data-testid="channel"][data-channel-id="${history}"]`).click();
      await until(charles, (n) => document.querySelectorAll('[data-testid="messages"] [data-testid="message"]').length === n, 50);
      await charles.locator(`[data-testid="channel"][data-channel-id="${history}"] [data-testid="channel-unread"]`).waitFor({ state: "detached" });
      const scrollUp = () => charles.getByTestId("messages").evaluate((list) => (list.scrollTop = 0));
      await scrollUp();
      await until(charles, (n) => document.querySelectorAll('[data-testid="messages"] [data-testid="message"]').length >= n, 100);
      // What was on screen stayed there: the list did not jump to the top of the new page.
      await until(charles, () => document.querySelector('[data-testid="messages"]')!.scrollTop > 0, null);
      await scrollUp();
      await until(charles, (n) => document.querySelector('[data-testid="messages"]')!.dataset.hasOlder === "false" && document.querySelectorAll('[data-testid="messages"] [data-testid="message"]').length === n, SEEDED);
      await rows(charles).first().filter({ hasText: `Note 1 of ${SEEDED}` }).waitFor();
      await rows(charles).last().filter({ hasText: `Note ${SEEDED} of ${SEEDED}` }).waitFor();

      // Charles signs out and back in with his password: the page opens where he was.
      await charles.getByTestId("sign-out").click();
      await charles.getByTestId("password").fill(PASSWORD);
      await charles.getByTestId("username").fill(names.charles);
      await charles.getByTestId("sign-in").click();
      await charles.getByTestId("me").filter({ hasText: names.charles }).waitFor();
      await charles.locator(`[data-testid="channel"][data-channel-id="${history}"].selected`).waitFor();
      await charles.locator('[data-testid="messages"][data-live="true"]').waitFor();

      // Charles's socket drops (4008, as when a server finds it too slow): a message sent meanwhile
      // arrives once, replayed from the stream's cursor when it reconnects, and nothing is queried again.
      const queriesSinceDrop: string[] = [];
      charles.on("request", (request) => {
        const url = new URL(request.url());
        if (url.pathname !== "/graphql") return;
        // urql sends a query by GET (in the URL) when it fits, else by POST.
        const query = url.searchParams.get("query") ?? (JSON.parse(request.postData() ?? "{}") as { query?: string }).query ?? "";
        if (query.trimStart().startsWith("query")) queriesSinceDrop.push(query.split("(")[0]!.trim());
      });
      const socketsBefore = await charles.evaluate(() => {
        for (const socket of window.concordSockets) if (socket.readyState === 1) socket.close(4008, "test: dropped");
        return window.concordSockets.length;
      });
      await server.ok(`mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "Sent while you were away" }) { id } }`, { c: history }, token);
      const away = charles.locator('[data-testid="message"]', { hasText: "Sent while you were away" });
      await away.waitFor();
      await until(charles, (n) => window.concordSockets.length > n, socketsBefore);
      await charles.locator('[data-testid="connection"][data-state="connected"]').waitFor({ state: "attached" });
      expect(await away.count()).toBe(1);
      expect(queriesSinceDrop).toEqual([]);
      expect(pageProblems).toEqual([]);
    },
    120_000,
  );
});
