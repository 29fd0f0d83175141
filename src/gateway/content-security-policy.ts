/** A Host header that can be written into a CSP source as is (nothing that could end the directive). */
const PLAIN_HOST = /^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The `connect-src` sources of a page served to `host`: this server over HTTP and WebSocket.
 * CSP3 counts ws: and wss: to this host as 'self', but older Safari does not: they are named too
 * when the Host header is plain enough to write into the policy.
 */
export function connectSources(host: string | undefined): string {
  return host !== undefined && PLAIN_HOST.test(host) ? `'self' ws://${host} wss://${host}` : "'self'";
}
