import { describe, expect, it } from "vitest";
import { pageWindow, windowPage } from "../../src/resolvers/page-window.js";
import { refusal } from "../support/assertions.js";

/** Relay's arguments both ways (resolvers/page-window.ts): which end a page is read from, and its flags. */

const SIZE = { default: 50, max: 100 };

describe("pageWindow", () => {
  it("reads forward for first/after and by default, backward for last, and for before without first", () => {
    expect(pageWindow({}, SIZE)).toEqual({ from: "first", limit: 50, after: null, before: null });
    expect(pageWindow({ first: 2, after: 7n }, SIZE)).toEqual({ from: "first", limit: 2, after: 7n, before: null });
    expect(pageWindow({ last: 3 }, SIZE)).toEqual({ from: "last", limit: 3, after: null, before: null });
    expect(pageWindow({ before: 9n }, SIZE)).toEqual({ from: "last", limit: 50, after: null, before: 9n });
    expect(pageWindow({ first: 4, before: 9n }, SIZE)).toEqual({ from: "first", limit: 4, after: null, before: 9n });
    expect(pageWindow({ last: 4, after: 1n, before: 9n }, SIZE)).toEqual({ from: "last", limit: 4, after: 1n, before: 9n });
  });

  it("refuses first with last, and sizes outside 1 to max, naming the argument", () => {
    expect(refusal(() => pageWindow({ first: 1, last: 1 }, SIZE)).field).toBe("last");
    expect(refusal(() => pageWindow({ last: 101 }, SIZE)).field).toBe("last");
    expect(refusal(() => pageWindow({ first: 0 }, SIZE)).field).toBe("first");
  });
});

describe("windowPage", () => {
  it("keeps `limit` rows in list order and says whether more exist each way", () => {
    expect(windowPage({ from: "first", limit: 2, after: null, before: null }, [1, 2, 3])).toEqual({ items: [1, 2], hasPreviousPage: false, hasNextPage: true });
    expect(windowPage({ from: "first", limit: 2, after: 0n, before: null }, [1, 2])).toEqual({ items: [1, 2], hasPreviousPage: true, hasNextPage: false });
    // Read from the last end: rows come highest first and are put back in order.
    expect(windowPage({ from: "last", limit: 2, after: null, before: null }, [9, 8, 7])).toEqual({ items: [8, 9], hasPreviousPage: true, hasNextPage: false });
    expect(windowPage({ from: "last", limit: 2, after: null, before: 10n }, [9])).toEqual({ items: [9], hasPreviousPage: false, hasNextPage: true });
  });
});
