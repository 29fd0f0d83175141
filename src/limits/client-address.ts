import { isIPv6 } from "node:net";

/** The parts of a Node request the client address is read from (HTTP requests and WebSocket upgrades alike). */
export interface AddressSource {
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string | undefined };
}

/**
 * The address a client is counted under for per-IP limits and caps.
 *
 * Behind `trustedHops` proxies (load balancers that append to X-Forwarded-For), the client is the
 * entry that many places from the right: entries further left were written by the client itself
 * and can be forged. With 0 (the default) the header is ignored and the TCP peer counts.
 *
 * IPv6 clients are counted per /64, because one subscriber line or one cloud VM routinely gets a
 * whole /64 and could otherwise rotate through 2^64 addresses. IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) count as the IPv4 address.
 */
export function clientAddress(source: AddressSource | undefined, trustedHops: number): string {
  if (!source) return "unknown";
  let address = source.socket.remoteAddress ?? "unknown";
  if (trustedHops > 0) {
    const header = source.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean);
    // The proxy nearest to us is the TCP peer; it appended the address it saw as the last entry.
    const candidate = hops[hops.length - trustedHops];
    if (candidate) address = candidate;
  }
  return normalize(address);
}

function normalize(address: string): string {
  // IPv4 (the common case) has no colon: nothing to match.
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${ipv6Prefix64(address)}::/64`;
}

/** The first four 16-bit groups of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0`). */
function ipv6Prefix64(address: string): string {
  const [head = "", tail] = address.split("%")[0]!.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail === undefined ? [] : tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups
    .slice(0, 4)
    .map((g) => (g.replace(/^0+/, "") || "0").toLowerCase())
    .join(":");
}
