import net from "node:net";

/**
 * External services for the contract and integration suites. Locally a suite whose service is
 * down is skipped with a note (so `npm test` passes on a laptop with nothing installed); with
 * CI=true the same suite fails, because CI must prove every adapter against its real server.
 */
export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? "");

/** Where the real Postgres used by tests lives (any database; suites create their own). */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** True if a TCP connection to the URL's host and port succeeds within the timeout. */
export function reachable(url: string, timeoutMs = 1_500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5432), timeout: timeoutMs });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * Decides whether a backend suite runs: true if the service answers; false (skip) locally if
 * not; throws in CI, so a missing service is a red build, never a silent skip.
 */
export async function requireService(name: string, url: string): Promise<boolean> {
  if (await reachable(url)) return true;
  const message = `${name} is not reachable at ${url.replace(/\/\/[^@]*@/, "//")}`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it (start it, or fix TEST_DATABASE_URL)`);
  console.warn(`skipping ${name} suites: ${message}`);
  return false;
}
