import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { clientAddress } from "../../src/limits/client-address.js";
import { BUCKETS, defaultRules, formatRule, parseRule } from "../../src/limits/rate-limit-rules.js";

describe("rate-limit rules", () => {
  it("parses <points>/<window> with s, m, h and d, and writes them back the same way", () => {
    expect(parseRule("5/5s")).toEqual({ points: 5, windowSeconds: 5 });
    expect(parseRule(" 20 / 1m ")).toEqual({ points: 20, windowSeconds: 60 });
    expect(parseRule("10/1h")).toEqual({ points: 10, windowSeconds: 3_600 });
    expect(parseRule("20/1d")).toEqual({ points: 20, windowSeconds: 86_400 });
    for (const text of ["5/5s", "20/1m", "10/1h", "20/1d", "7/90s"]) expect(formatRule(parseRule(text)!)).toBe(text);
  });

  it("refuses malformed rules and windows outside 1 s to 7 days", () => {
    for (const text of ["", "5", "5/5", "5/500ms", "0/5s", "-1/5s", "5/0s", "5/8d", "1.5/5s", "5/5 s 5", "abc/5s"]) expect(parseRule(text), text).toBeNull();
  });

  it("every bucket's default is a valid rule with its own setting name", () => {
    const settings = Object.values(BUCKETS).map((b) => b.setting);
    expect(new Set(settings).size).toBe(settings.length);
    for (const [name, rule] of Object.entries(defaultRules())) expect(parseRule(formatRule(rule)), name).toEqual(rule);
  });

  it("is configured from RATE_LIMIT_<SETTING>, turned off by RATE_LIMITS=off, and reports bad values by name", () => {
    const config = loadConfig({ RATE_LIMIT_SEND_MESSAGE_CHANNEL: "3/10s" });
    expect(config.rateLimits?.["message.send.channel"]).toEqual({ points: 3, windowSeconds: 10 });
    expect(config.rateLimits?.["guild.create"]).toEqual(BUCKETS["guild.create"].default);
    expect(loadConfig({ RATE_LIMITS: "off" }).rateLimits).toBeNull();
    expect(() => loadConfig({ RATE_LIMIT_LOGIN_IP: "lots" })).toThrow(/RATE_LIMIT_LOGIN_IP="lots": expected <calls>\/<window> such as 20\/1m/);
  });
});

describe("clientAddress", () => {
  const req = (remoteAddress: string, forwarded?: string) => ({ socket: { remoteAddress }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } });

  it("uses the TCP peer and ignores X-Forwarded-For unless proxies are trusted", () => {
    expect(clientAddress(req("203.0.113.9", "1.1.1.1"), 0)).toBe("203.0.113.9");
  });

  it("behind N trusted proxies takes the Nth entry from the right, so a forged leftmost entry is ignored", () => {
    expect(clientAddress(req("10.0.0.2", "6.6.6.6, 198.51.100.7"), 1)).toBe("198.51.100.7");
    expect(clientAddress(req("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.1"), 2)).toBe("198.51.100.7");
    // Fewer entries than hops: fall back to the peer rather than trust nothing.
    expect(clientAddress(req("10.0.0.2"), 1)).toBe("10.0.0.2");
  });

  it("counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4", () => {
    expect(clientAddress(req("2001:db8:1:2:3:4:5:6"), 0)).toBe("2001:db8:1:2::/64");
    expect(clientAddress(req("2001:db8:1:2::9"), 0)).toBe("2001:db8:1:2::/64");
    expect(clientAddress(req("2001:db8::1"), 0)).toBe("2001:db8:0:0::/64");
    expect(clientAddress(req("::1"), 0)).toBe("0:0:0:0::/64");
    expect(clientAddress(req("::ffff:192.0.2.1"), 0)).toBe("192.0.2.1");
  });
});
