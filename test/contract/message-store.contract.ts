import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONCORD_EPOCH_MS, MAX_SNOWFLAKE, createIdGenerator, snowflakeAt, snowflakeTime } from "../../src/ids/snowflake.js";
import { MAX_AUTHOR_PAGE, MAX_STORE_PAGE, type MessageRecord, type MessageStore, type PageQuery } from "../../src/stores/message-store.js";
import { seededRandom } from "../support/random.js";

/** What a suite run needs from an adapter: the store and how to release what backs it. */
export interface MessageStoreFixture {
  store: MessageStore;
  close(): Promise<void>;
}

/** Known differences between adapters, stated here rather than skipped. */
export interface MessageStoreContractOptions {
  /**
   * How many creates the suite sends at once when it seeds long histories (default 50). Lower it
   * for an adapter whose connection pool is small; the behaviour checked does not change.
   */
  writeConcurrency?: number;
}

const DAY = 86_400_000;

/**
 * Millisecond times for a history spread over ~21 months from the Concord epoch, built to trip
 * time-bucketed adapters: one message alone ~14 months before the rest (a year and more of
 * empty buckets), bursts in one millisecond, gaps of weeks between clusters, and pairs of
 * messages straddling day, month and year boundaries. Ascending; may repeat a millisecond.
 */
function spreadTimes(count: number, seed: number): number[] {
  const next = seededRandom(seed);
  const times = [CONCORD_EPOCH_MS + 3_600_000];
  let t = CONCORD_EPOCH_MS + 420 * DAY;
  const straddled = [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1), Date.UTC(2026, 6, 15)];
  for (const boundary of straddled) times.push(boundary - 1, boundary, boundary);
  while (times.length < count) {
    const roll = next();
    if (times.length % 200 === 0) t += 10 * DAY + Math.floor(next() * 30 * DAY); // weeks of empty buckets
    else if (roll < 0.35) t += 0; // same millisecond: several ids share a timestamp
    else if (roll < 0.6) t += Math.floor(next() * 1_000);
    else if (roll < 0.85) t += Math.floor(next() * 3_600_000);
    else t += Math.floor(next() * DAY / 2);
    times.push(t);
  }
  return times.sort((a, b) => a - b);
}

/**
 * The behaviour every {@link MessageStore} adapter must have, as stated in the port's JSDoc.
 * One store per suite run; each test writes to channels of its own, so tests never see each
 * other's messages. Ids are real snowflakes, from the live clock and from a fake clock that
 * spreads a history over many months, because the Cassandra adapter partitions by time bucket.
 */
export function messageStoreContract(
  name: string,
  factory: () => Promise<MessageStoreFixture>,
  options: MessageStoreContractOptions = {},
) {
  const concurrency = options.writeConcurrency ?? 50;

  describe(`MessageStore contract: ${name}`, () => {
    const newId = createIdGenerator(1);
    /** Channel and user ids: a second worker, so they never equal a message id by accident. */
    const newEntityId = createIdGenerator(2);
    let fixture: MessageStoreFixture | undefined;
    const store = (): MessageStore => {
      if (!fixture) throw new Error(`${name}: the factory did not produce a store`);
      return fixture.store;
    };

    beforeAll(async () => {
      fixture = await factory();
    });
    afterAll(async () => {
      await fixture?.close();
    });

    const message = (channelId: bigint, overrides: Partial<MessageRecord> = {}): MessageRecord => ({
      id: newId(),
      channelId,
      authorId: overrides.authorId ?? newEntityId(),
      content: "hello",
      editedAt: null,
      replyToId: null,
      mentionIds: [],
      nonce: null,
      ...overrides,
    });

    /** Creates the messages, `concurrency` at a time, and checks each one was new. */
    async function seed(records: readonly MessageRecord[]): Promise<void> {
      for (let i = 0; i < records.length; i += concurrency) {
        const results = await Promise.all(records.slice(i, i + concurrency).map((m) => store().create(m)));
        for (const r of results) expect(r.created).toBe(true);
      }
    }

    /** `count` messages in a new channel, ids ascending. */
    async function channelWith(count: number): Promise<{ channelId: bigint; messages: MessageRecord[] }> {
      const channelId = newEntityId();
      const messages = Array.from({ length: count }, (_, i) => message(channelId, { content: `message ${i}` }));
      await seed(messages);
      return { channelId, messages };
    }

    const ids = (records: readonly MessageRecord[]) => records.map((m) => m.id);
    const ascending = (list: readonly bigint[]) => [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

    /**
     * Walks a channel by id cursor, as clients scroll: each page's `before` (or `after`) is the
     * last id of the previous page, until an empty page. Checks on the way that every page but
     * the last non-empty one is full: a short page in the middle means a store stopped at a
     * partition edge instead of filling the page.
     */
    async function walk(channelId: bigint, from: PageQuery["from"], pageSize: number, expectedCount: number, bounds: { before?: bigint; after?: bigint } = {}): Promise<bigint[]> {
      const seen: bigint[] = [];
      const sizes: number[] = [];
      let cursor = from === "newest" ? bounds.before : bounds.after;
      const maxPages = Math.ceil(expectedCount / pageSize) + 2;
      for (let i = 0; i < maxPages; i++) {
        const query: PageQuery = from === "newest" ? { from, limit: pageSize, before: cursor, after: bounds.after } : { from, limit: pageSize, after: cursor, before: bounds.before };
        if (query.before === undefined) delete query.before;
        if (query.after === undefined) delete query.after;
        const page = await store().page(channelId, query);
        sizes.push(page.length);
        if (page.length === 0) break;
        for (const m of page) expect(m.channelId).toBe(channelId);
        seen.push(...ids(page));
        cursor = page.at(-1)!.id;
      }
      expect(sizes.at(-1), "the walk must end with an empty page").toBe(0);
      const full = Math.floor(expectedCount / pageSize);
      expect(sizes.slice(0, full), "pages before the last one are full").toEqual(Array(full).fill(pageSize));
      return seen;
    }

    describe("create and get", () => {
      it("round-trips every field, including mention order, nonce, reply and large ids", async () => {
        const channelId = newEntityId();
        const original = message(channelId, { content: "first" });
        await store().create(original);
        const record = message(channelId, {
          authorId: MAX_SNOWFLAKE,
          content: "Ünïcödé ✓ 🚀\nsecond line with 'quotes' and \"doubles\" and \\ backslash",
          replyToId: original.id,
          mentionIds: [9_000_000_000_000_000_001n, 3n, MAX_SNOWFLAKE, 1n],
          nonce: "client-nonce-1",
        });
        const result = await store().create(record);
        expect(result).toEqual({ created: true, message: record });
        const read = await store().get(channelId, record.id);
        expect(read).toEqual(record);
        expect(read!.editedAt).toBeNull();
        expect(read!.mentionIds).toEqual([9_000_000_000_000_000_001n, 3n, MAX_SNOWFLAKE, 1n]);
      });

      it("round-trips a minimal message: no mentions, no nonce, no reply, content of 2,000 characters", async () => {
        const channelId = newEntityId();
        const record = message(channelId, { content: "x".repeat(1_999) + "é" });
        expect(await store().create(record)).toEqual({ created: true, message: record });
        expect(await store().get(channelId, record.id)).toEqual(record);
      });

      it("sends made together (one turn, as a busy instance makes them) are each stored whole, in any channel", async () => {
        const channels = [newEntityId(), newEntityId(), newEntityId()];
        const replyTarget = message(channels[0]!, { content: "replied to" });
        await store().create(replyTarget);
        const sends = Array.from({ length: 30 }, (_, i) =>
          message(channels[i % 3]!, {
            content: i % 5 === 0 ? `ünïcödé ${i} 🚀 {braces} "quotes" \\ ,comma` : `send ${i}`,
            mentionIds: i % 4 === 0 ? [] : Array.from({ length: i % 7 }, (_, k) => BigInt(k * 1_000_000_007 + i)).concat(i % 3 === 0 ? [MAX_SNOWFLAKE] : []),
            replyToId: i % 6 === 0 ? replyTarget.id : null,
            nonce: i % 2 === 0 ? `together-${i}` : null,
          }),
        );
        const results = await Promise.all(sends.map((m) => store().create(m)));
        expect(results).toEqual(sends.map((m) => ({ created: true, message: m })));
        for (const m of sends) expect(await store().get(m.channelId, m.id)).toEqual(m);
        // ...and a repeat of each nonce, together again, returns the first message and writes nothing.
        const repeats = sends.filter((m) => m.nonce !== null).map((m) => message(m.channelId, { authorId: m.authorId, nonce: m.nonce, content: "repeat" }));
        const again = await Promise.all(repeats.map((m) => store().create(m)));
        expect(again).toEqual(repeats.map((_, i) => ({ created: false, message: sends.filter((m) => m.nonce !== null)[i] })));
        for (const channelId of channels) expect((await store().page(channelId, { from: "oldest", limit: MAX_STORE_PAGE })).length).toBe(channelId === channels[0] ? 11 : 10);
      });

      it("get returns null for an unknown id, and for an existing id asked under another channel", async () => {
        const channelId = newEntityId();
        const record = message(channelId);
        await store().create(record);
        expect(await store().get(channelId, newId())).toBeNull();
        expect(await store().get(newEntityId(), record.id)).toBeNull();
        expect(await store().get(channelId, record.id)).toEqual(record);
      });
    });

    describe("nonce idempotency", () => {
      it("a repeat with the same author, channel and nonce returns the first message, created: false, and writes nothing", async () => {
        const channelId = newEntityId();
        const authorId = newEntityId();
        const first = message(channelId, { authorId, nonce: "n1", content: "first", mentionIds: [7n] });
        expect((await store().create(first)).created).toBe(true);
        const repeat = message(channelId, { authorId, nonce: "n1", content: "second" });
        expect(await store().create(repeat)).toEqual({ created: false, message: first });
        expect(await store().get(channelId, repeat.id)).toBeNull();
        expect(await store().page(channelId, { from: "newest", limit: 10 })).toEqual([first]);
      });

      it("the same nonce from another author, or in another channel, creates a new message", async () => {
        const channelId = newEntityId();
        const authorId = newEntityId();
        const first = message(channelId, { authorId, nonce: "shared" });
        const otherAuthor = message(channelId, { nonce: "shared" });
        const otherChannel = message(newEntityId(), { authorId, nonce: "shared" });
        for (const m of [first, otherAuthor, otherChannel]) {
          expect(await store().create(m)).toEqual({ created: true, message: m });
        }
        expect(ids(await store().page(channelId, { from: "oldest", limit: 10 }))).toEqual([first.id, otherAuthor.id]);
        expect(await store().get(otherChannel.channelId, otherChannel.id)).toEqual(otherChannel);
      });

      it("a null nonce never dedupes", async () => {
        const channelId = newEntityId();
        const authorId = newEntityId();
        const sends = [1, 2, 3].map(() => message(channelId, { authorId, nonce: null, content: "same text" }));
        for (const m of sends) expect((await store().create(m)).created).toBe(true);
        expect(ids(await store().page(channelId, { from: "oldest", limit: 10 }))).toEqual(ids(sends));
      });

      it("concurrent duplicates with the same nonce create exactly one message, and every caller gets it", async () => {
        const channelId = newEntityId();
        const racers = 4;
        const nonces = Array.from({ length: 10 }, (_, i) => `race-${i}`);
        const attempts = nonces.flatMap((nonce) => {
          const authorId = newEntityId();
          return Array.from({ length: racers }, (_, i) => message(channelId, { authorId, nonce, content: `${nonce} attempt ${i}` }));
        });
        const results = await Promise.all(attempts.map((m) => store().create(m)));
        for (let n = 0; n < nonces.length; n++) {
          const group = results.slice(n * racers, (n + 1) * racers);
          expect(group.filter((r) => r.created), `exactly one create wins for ${nonces[n]}`).toHaveLength(1);
          const winner = group.find((r) => r.created)!.message;
          for (const r of group) expect(r.message).toEqual(winner);
        }
        const stored = await store().page(channelId, { from: "oldest", limit: MAX_STORE_PAGE });
        expect(stored).toHaveLength(nonces.length);
        expect(stored.map((m) => m.nonce).sort()).toEqual([...nonces].sort());
      });

      it("a deleted message's nonce may be reused", async () => {
        const channelId = newEntityId();
        const authorId = newEntityId();
        const first = message(channelId, { authorId, nonce: "again" });
        await store().create(first);
        expect(await store().delete(channelId, first.id)).toBe(true);
        const second = message(channelId, { authorId, nonce: "again", content: "after delete" });
        expect(await store().create(second)).toEqual({ created: true, message: second });
        expect(await store().page(channelId, { from: "newest", limit: 10 })).toEqual([second]);
        // ...and the reused nonce dedupes again from now on.
        const third = message(channelId, { authorId, nonce: "again" });
        expect(await store().create(third)).toEqual({ created: false, message: second });
      });
    });

    describe("getMany", () => {
      it("returns the channel's messages among the ids, ignoring missing ids and other channels' messages", async () => {
        const { channelId, messages } = await channelWith(4);
        const [a, b, , d] = messages as [MessageRecord, MessageRecord, MessageRecord, MessageRecord];
        const other = message(newEntityId());
        await store().create(other);
        await store().delete(channelId, b.id);
        const found = await store().getMany(channelId, [d.id, other.id, newId(), a.id, b.id]);
        expect([...found].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([a, d]);
        expect(await store().getMany(channelId, [])).toEqual([]);
        expect(await store().getMany(newEntityId(), [a.id, d.id])).toEqual([]);
      });
    });

    describe("edit", () => {
      it("replaces content and mentions, sets editedAt, returns the new state and leaves other fields alone", async () => {
        const channelId = newEntityId();
        const replied = message(channelId);
        const original = message(channelId, { content: "before", mentionIds: [4n, 5n], nonce: "e1", replyToId: replied.id });
        await seed([replied]);
        await seed([original]);
        const editedAt = new Date("2026-03-04T05:06:07.891Z");
        const edited = await store().edit(channelId, original.id, { content: "after ✓", mentionIds: [9n, 2n, 5n], editedAt });
        const expected: MessageRecord = { ...original, content: "after ✓", mentionIds: [9n, 2n, 5n], editedAt };
        expect(edited).toEqual(expected);
        expect(edited!.editedAt).toBeInstanceOf(Date);
        expect(await store().get(channelId, original.id)).toEqual(expected);
        expect(await store().get(channelId, replied.id)).toEqual(replied);
      });

      it("the last edit wins, and can clear the mentions", async () => {
        const channelId = newEntityId();
        const original = message(channelId, { mentionIds: [1n] });
        await store().create(original);
        await store().edit(channelId, original.id, { content: "one", mentionIds: [2n], editedAt: new Date(1_000) });
        const last = await store().edit(channelId, original.id, { content: "two", mentionIds: [], editedAt: new Date(2_000) });
        const expected = { ...original, content: "two", mentionIds: [], editedAt: new Date(2_000) };
        expect(last).toEqual(expected);
        expect(await store().get(channelId, original.id)).toEqual(expected);
      });

      it("returns null for a missing message, a deleted one, or one of another channel, and creates nothing", async () => {
        const channelId = newEntityId();
        const kept = message(channelId);
        const gone = message(channelId);
        await seed([kept, gone]);
        await store().delete(channelId, gone.id);
        const patch = { content: "nope", mentionIds: [], editedAt: new Date() };
        const missing = newId();
        expect(await store().edit(channelId, missing, patch)).toBeNull();
        expect(await store().edit(channelId, gone.id, patch)).toBeNull();
        expect(await store().edit(newEntityId(), kept.id, patch)).toBeNull();
        expect(await store().get(channelId, missing)).toBeNull();
        expect(await store().get(channelId, gone.id)).toBeNull();
        expect(await store().page(channelId, { from: "newest", limit: 10 })).toEqual([kept]);
      });
    });

    describe("delete", () => {
      it("returns true once, then false; the message is gone from get, getMany and page; others stay", async () => {
        const { channelId, messages } = await channelWith(3);
        const [a, b, c] = messages as [MessageRecord, MessageRecord, MessageRecord];
        expect(await store().delete(channelId, b.id)).toBe(true);
        expect(await store().delete(channelId, b.id)).toBe(false);
        expect(await store().get(channelId, b.id)).toBeNull();
        expect(await store().getMany(channelId, [b.id])).toEqual([]);
        expect(await store().page(channelId, { from: "newest", limit: 10 })).toEqual([c, a]);
      });

      it("returns false for an unknown id, or for a message asked under another channel, which stays", async () => {
        const channelId = newEntityId();
        const record = message(channelId);
        await store().create(record);
        expect(await store().delete(channelId, newId())).toBe(false);
        expect(await store().delete(newEntityId(), record.id)).toBe(false);
        expect(await store().get(channelId, record.id)).toEqual(record);
      });
    });

    describe("page", () => {
      let channelId: bigint;
      let m: MessageRecord[];
      const page = async (query: PageQuery) => ids(await store().page(channelId, query));
      const at = (...indexes: number[]) => indexes.map((i) => m[i]!.id);

      beforeAll(async () => {
        // Ten messages in the channel, with another channel's messages interleaved by id.
        channelId = newEntityId();
        const neighbour = newEntityId();
        m = [];
        const noise: MessageRecord[] = [];
        for (let i = 0; i < 10; i++) {
          noise.push(message(neighbour));
          m.push(message(channelId, { content: `m${i}`, mentionIds: [BigInt(i)] }));
        }
        noise.push(message(neighbour));
        await seed([...m, ...noise]);
      });

      it("from newest: the newest messages, newest first; from oldest: the oldest, oldest first; whole records", async () => {
        expect(await store().page(channelId, { from: "newest", limit: 3 })).toEqual([m[9], m[8], m[7]]);
        expect(await store().page(channelId, { from: "oldest", limit: 3 })).toEqual([m[0], m[1], m[2]]);
        expect(await page({ from: "newest", limit: 1 })).toEqual(at(9));
        expect(await page({ from: "oldest", limit: 1 })).toEqual(at(0));
      });

      it("a limit above the channel's size returns every message once", async () => {
        expect(await page({ from: "newest", limit: MAX_STORE_PAGE })).toEqual(at(9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
        expect(await page({ from: "oldest", limit: 11 })).toEqual(at(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
      });

      it("before is exclusive, and combines with either direction", async () => {
        expect(await page({ from: "newest", limit: 3, before: m[5]!.id })).toEqual(at(4, 3, 2));
        expect(await page({ from: "oldest", limit: 3, before: m[5]!.id })).toEqual(at(0, 1, 2));
        expect(await page({ from: "newest", limit: 10, before: m[1]!.id })).toEqual(at(0));
        expect(await page({ from: "newest", limit: 10, before: m[0]!.id })).toEqual([]);
      });

      it("after is exclusive, and combines with either direction", async () => {
        expect(await page({ from: "oldest", limit: 3, after: m[5]!.id })).toEqual(at(6, 7, 8));
        expect(await page({ from: "newest", limit: 3, after: m[5]!.id })).toEqual(at(9, 8, 7));
        expect(await page({ from: "oldest", limit: 10, after: m[8]!.id })).toEqual(at(9));
        expect(await page({ from: "oldest", limit: 10, after: m[9]!.id })).toEqual([]);
      });

      it("both bounds together select the open interval, limited from the requested end", async () => {
        const between = { after: m[2]!.id, before: m[7]!.id };
        expect(await page({ from: "newest", limit: 10, ...between })).toEqual(at(6, 5, 4, 3));
        expect(await page({ from: "oldest", limit: 10, ...between })).toEqual(at(3, 4, 5, 6));
        expect(await page({ from: "newest", limit: 2, ...between })).toEqual(at(6, 5));
        expect(await page({ from: "oldest", limit: 2, ...between })).toEqual(at(3, 4));
        expect(await page({ from: "newest", limit: 10, after: m[4]!.id, before: m[5]!.id })).toEqual([]);
        expect(await page({ from: "oldest", limit: 10, after: m[5]!.id, before: m[5]!.id })).toEqual([]);
        expect(await page({ from: "newest", limit: 10, after: m[6]!.id, before: m[4]!.id })).toEqual([]);
      });

      it("bounds need not be ids of messages: any snowflake works as a cursor", async () => {
        expect(await page({ from: "newest", limit: 3, before: m[5]!.id - 1n })).toEqual(at(4, 3, 2));
        expect(await page({ from: "oldest", limit: 3, after: m[5]!.id + 1n })).toEqual(at(6, 7, 8));
        expect(await page({ from: "newest", limit: 2, before: MAX_SNOWFLAKE })).toEqual(at(9, 8));
        expect(await page({ from: "oldest", limit: 2, after: 0n })).toEqual(at(0, 1));
        // The very ends of the range are valid cursors with nothing beyond them, in both directions.
        for (const from of ["newest", "oldest"] as const) {
          expect(await page({ from, limit: 2, after: MAX_SNOWFLAKE })).toEqual([]);
          expect(await page({ from, limit: 2, before: 0n })).toEqual([]);
        }
      });

      it("never shows another channel's messages; an unknown channel has an empty history", async () => {
        const all = await store().page(channelId, { from: "oldest", limit: MAX_STORE_PAGE });
        expect(all.every((x) => x.channelId === channelId)).toBe(true);
        expect(all).toEqual(m);
        expect(await store().page(newEntityId(), { from: "newest", limit: 10 })).toEqual([]);
      });
    });

    describe("findByAuthor", () => {
      const descending = (list: readonly bigint[]) => ascending(list).reverse();

      it("returns the author's ids in the range, newest first: never other authors', other channels' or deleted ones", async () => {
        const channelId = newEntityId();
        const neighbour = newEntityId();
        const [ann, bob] = [newEntityId(), newEntityId()];
        const records: MessageRecord[] = [];
        for (let i = 0; i < 12; i++) {
          records.push(message(channelId, { authorId: i % 3 === 0 ? bob : ann, nonce: `f${i}` }));
          records.push(message(neighbour, { authorId: ann }));
        }
        await seed(records);
        const anns = records.filter((m) => m.channelId === channelId && m.authorId === ann);
        const bobs = records.filter((m) => m.channelId === channelId && m.authorId === bob);
        expect(await store().delete(channelId, anns[3]!.id)).toBe(true);
        const kept = anns.filter((_, i) => i !== 3);
        expect(await store().findByAuthor(channelId, ann, { after: 0n, limit: 100 })).toEqual(descending(ids(kept)));
        expect(await store().findByAuthor(channelId, bob, { after: 0n, limit: 100 })).toEqual(descending(ids(bobs)));
        expect(await store().findByAuthor(channelId, newEntityId(), { after: 0n, limit: 100 })).toEqual([]);
        expect(await store().findByAuthor(newEntityId(), ann, { after: 0n, limit: 100 })).toEqual([]);
        // Reading changes nothing.
        expect(await store().page(channelId, { from: "oldest", limit: MAX_STORE_PAGE })).toHaveLength(records.length / 2 - 1);
      });

      it("bounds are exclusive, need not be message ids, and the limit keeps the newest", async () => {
        const channelId = newEntityId();
        const authorId = newEntityId();
        const m = Array.from({ length: 8 }, () => message(channelId, { authorId }));
        await seed(m);
        const at = (...indexes: number[]) => indexes.map((i) => m[i]!.id);
        const find = (range: { after: bigint; before?: bigint; limit: number }) => store().findByAuthor(channelId, authorId, range);
        expect(await find({ after: m[4]!.id, limit: 10 })).toEqual(at(7, 6, 5));
        expect(await find({ after: m[4]!.id - 1n, limit: 10 })).toEqual(at(7, 6, 5, 4));
        expect(await find({ after: 0n, before: m[2]!.id, limit: 10 })).toEqual(at(1, 0));
        expect(await find({ after: m[1]!.id, before: m[5]!.id, limit: 10 })).toEqual(at(4, 3, 2));
        expect(await find({ after: 0n, limit: 3 })).toEqual(at(7, 6, 5));
        expect(await find({ after: m[5]!.id, before: m[6]!.id, limit: 10 })).toEqual([]);
        expect(await find({ after: m[6]!.id, before: m[5]!.id, limit: 10 })).toEqual([]);
        expect(await find({ after: MAX_SNOWFLAKE, limit: 10 })).toEqual([]);
        expect(await find({ after: 0n, before: 0n, limit: 10 })).toEqual([]);
        expect(await find({ after: 0n, before: MAX_SNOWFLAKE, limit: 1 })).toEqual(at(7));
      });

      it("finds a sparse author among more than a thousand other messages (the largest limit, several reads)", async () => {
        const channelId = newEntityId();
        const [rare, chatty] = [newEntityId(), newEntityId()];
        const records = Array.from({ length: 1_250 }, (_, i) => message(channelId, { authorId: i % 25 === 0 ? rare : chatty }));
        await seed(records);
        const rares = ids(records.filter((m) => m.authorId === rare));
        expect(await store().findByAuthor(channelId, rare, { after: 0n, limit: MAX_AUTHOR_PAGE })).toEqual(descending(rares));
        const chatter = await store().findByAuthor(channelId, chatty, { after: 0n, limit: MAX_AUTHOR_PAGE });
        expect(chatter).toEqual(descending(ids(records.filter((m) => m.authorId === chatty))).slice(0, MAX_AUTHOR_PAGE));
      });

      it("walked by before = last id over months of buckets, deleting as it goes: every match in the window exactly once", async () => {
        let clock = 0;
        const id = createIdGenerator(32, () => clock);
        const channelId = newEntityId();
        const neighbour = newEntityId();
        const authors = [newEntityId(), newEntityId(), newEntityId()] as const;
        const records: MessageRecord[] = [];
        spreadTimes(300, 7).forEach((time, i) => {
          clock = time;
          records.push(message(channelId, { id: id(), authorId: authors[i % 3]! }));
          if (i % 5 === 0) records.push(message(neighbour, { id: id(), authorId: authors[0] }));
        });
        await seed(records);
        const target = authors[0];
        const own = records.filter((m) => m.channelId === channelId && m.authorId === target);
        // A window from the middle of the history: older messages stay out of it.
        const after = own[Math.floor(own.length / 2)]!.id;
        const expected = descending(ids(own.filter((m) => m.id > after)));
        const seen: bigint[] = [];
        let before: bigint | undefined;
        for (let round = 0; round < 100; round++) {
          const batch = await store().findByAuthor(channelId, target, { after, limit: 7, ...(before === undefined ? {} : { before }) });
          if (batch.length === 0) break;
          seen.push(...batch);
          for (const found of batch) expect(await store().delete(channelId, found)).toBe(true);
          before = batch.at(-1)!;
        }
        expect(seen).toEqual(expected);
        expect(await store().findByAuthor(channelId, target, { after, limit: MAX_AUTHOR_PAGE })).toEqual([]);
        // Outside the window, and other authors and channels, nothing was touched.
        expect(await store().findByAuthor(channelId, target, { after: 0n, limit: MAX_AUTHOR_PAGE })).toEqual(descending(ids(own.filter((m) => m.id <= after))));
        const deleted = new Set(expected);
        const remaining = ids(records.filter((m) => m.channelId === channelId && !deleted.has(m.id)));
        expect(await walk(channelId, "newest", 50, remaining.length)).toEqual(descending(remaining));
        const neighbours = ids(records.filter((m) => m.channelId === neighbour));
        expect(await store().findByAuthor(neighbour, target, { after: 0n, limit: MAX_AUTHOR_PAGE })).toEqual(descending(neighbours));
      });
    });

    describe("deleteChannel", () => {
      it("deletes the whole history, including months-old messages, is idempotent, and leaves other channels alone", async () => {
        let clock = CONCORD_EPOCH_MS + DAY;
        const oldId = createIdGenerator(11, () => clock);
        const channelId = newEntityId();
        const other = newEntityId();
        const doomed: MessageRecord[] = [];
        const kept: MessageRecord[] = [];
        for (let i = 0; i < 12; i++) {
          clock += 47 * DAY + i * 3_600_000; // spread over ~19 months
          doomed.push(message(channelId, { id: oldId(), nonce: `d${i}` }));
          kept.push(message(other, { id: oldId(), nonce: `k${i}` }));
        }
        doomed.push(message(channelId));
        kept.push(message(other));
        await seed([...doomed, ...kept]);

        await store().deleteChannel(channelId);
        expect(await store().page(channelId, { from: "newest", limit: MAX_STORE_PAGE })).toEqual([]);
        expect(await store().page(channelId, { from: "oldest", limit: MAX_STORE_PAGE })).toEqual([]);
        expect(await store().get(channelId, doomed[0]!.id)).toBeNull();
        expect(await store().getMany(channelId, ids(doomed))).toEqual([]);
        expect(await store().page(other, { from: "oldest", limit: MAX_STORE_PAGE })).toEqual(kept);

        await store().deleteChannel(channelId);
        await store().deleteChannel(newEntityId());
        expect(await store().page(other, { from: "newest", limit: 1 })).toEqual([kept.at(-1)]);
      });
    });

    /**
     * Long histories walked page by page. Each data set is a channel of ~1,000 messages with a
     * neighbouring channel whose ids interleave with it, so a leak across channels shows too.
     */
    const histories = [
      {
        label: "live-clock snowflakes (~1,000 ids within a few milliseconds)",
        build(channelId: bigint, neighbour: bigint) {
          const own: MessageRecord[] = [];
          const noise: MessageRecord[] = [];
          for (let i = 0; i < 1_000; i++) {
            own.push(message(channelId, { content: `live ${i}` }));
            if (i % 10 === 0) noise.push(message(neighbour));
          }
          return { own, noise };
        },
      },
      {
        label: "snowflakes spread over ~21 months (empty buckets, bursts, boundary straddles, a 14-month gap)",
        build(channelId: bigint, neighbour: bigint) {
          let clock = 0;
          const ownId = createIdGenerator(21, () => clock);
          const noiseId = createIdGenerator(22, () => clock);
          const own: MessageRecord[] = [];
          const noise: MessageRecord[] = [];
          spreadTimes(1_001, 0xc0ffee).forEach((time, i) => {
            clock = time;
            own.push(message(channelId, { id: ownId(), content: `spread ${i}` }));
            if (i % 7 === 0) noise.push(message(neighbour, { id: noiseId() }));
          });
          return { own, noise };
        },
      },
    ];

    for (const history of histories) {
      describe(`walking a long history: ${history.label}`, () => {
        let channelId: bigint;
        let own: MessageRecord[];
        let oldestFirst: bigint[];
        let newestFirst: bigint[];

        beforeAll(async () => {
          channelId = newEntityId();
          const built = history.build(channelId, newEntityId());
          own = built.own;
          await seed([...built.own, ...built.noise]);
          oldestFirst = ascending(ids(own));
          newestFirst = [...oldestFirst].reverse();
          expect(new Set(oldestFirst).size).toBe(own.length);
        });

        it("backwards in pages of 50 with before = last id of the previous page: every id once, newest first", async () => {
          expect(await walk(channelId, "newest", 50, own.length)).toEqual(newestFirst);
        });

        it("forwards in pages of 50 with after = last id of the previous page: every id once, oldest first", async () => {
          expect(await walk(channelId, "oldest", 50, own.length)).toEqual(oldestFirst);
        });

        it("in pages of the largest size both ways, with the look-ahead row", async () => {
          expect(await store().page(channelId, { from: "newest", limit: MAX_STORE_PAGE })).toHaveLength(MAX_STORE_PAGE);
          expect(await walk(channelId, "newest", MAX_STORE_PAGE, own.length)).toEqual(newestFirst);
          expect(await walk(channelId, "oldest", MAX_STORE_PAGE, own.length)).toEqual(oldestFirst);
        });

        it("inside a window bounded on both sides, both ways", async () => {
          const lo = 100;
          const hi = own.length - 101;
          const bounds = { after: oldestFirst[lo]!, before: oldestFirst[hi]! };
          const inside = oldestFirst.slice(lo + 1, hi);
          expect(await walk(channelId, "newest", 50, inside.length, bounds)).toEqual([...inside].reverse());
          expect(await walk(channelId, "oldest", 50, inside.length, bounds)).toEqual(inside);
        });

        it("pages return whole records", async () => {
          const byId = new Map(own.map((x) => [x.id, x]));
          const newest = await store().page(channelId, { from: "newest", limit: 5 });
          expect(newest).toEqual(newestFirst.slice(0, 5).map((id) => byId.get(id)));
          const oldest = await store().page(channelId, { from: "oldest", limit: 5 });
          expect(oldest).toEqual(oldestFirst.slice(0, 5).map((id) => byId.get(id)));
        });
      });
    }

    describe("cursors in empty time ranges of a months-long history", () => {
      let channelId: bigint;
      let oldestFirst: bigint[];
      let times: number[];

      beforeAll(async () => {
        channelId = newEntityId();
        let clock = 0;
        const id = createIdGenerator(31, () => clock);
        times = spreadTimes(60, 42);
        const records = times.map((time) => {
          clock = time;
          return message(channelId, { id: id() });
        });
        await seed(records);
        oldestFirst = ids(records);
        expect(oldestFirst.map((x) => snowflakeTime(x).getTime())).toEqual(times);
      });

      it("a cursor in the middle of the 14-month gap finds the lone old message and the first ones after", async () => {
        const inGap = snowflakeAt(times[0]! + 200 * DAY);
        expect(ids(await store().page(channelId, { from: "newest", limit: 5, before: inGap }))).toEqual([oldestFirst[0]]);
        expect(ids(await store().page(channelId, { from: "oldest", limit: 5, before: inGap }))).toEqual([oldestFirst[0]]);
        expect(ids(await store().page(channelId, { from: "oldest", limit: 3, after: inGap }))).toEqual(oldestFirst.slice(1, 4));
        expect(ids(await store().page(channelId, { from: "newest", limit: 3, after: inGap }))).toEqual(oldestFirst.slice(-3).reverse());
      });

      it("the gap itself is empty; the oldest message is found from the newest one", async () => {
        const [first, second] = oldestFirst as [bigint, bigint];
        expect(await store().page(channelId, { from: "newest", limit: 10, after: first, before: second })).toEqual([]);
        expect(await store().page(channelId, { from: "oldest", limit: 10, after: first, before: second })).toEqual([]);
        expect(ids(await store().page(channelId, { from: "newest", limit: 1, before: second }))).toEqual([first]);
        expect(ids(await store().page(channelId, { from: "newest", limit: 2, before: oldestFirst.at(-1)!, after: 0n })).length).toBe(2);
        expect(ids(await store().page(channelId, { from: "oldest", limit: 1, after: 0n }))).toEqual([first]);
        expect(await store().get(channelId, first)).not.toBeNull();
      });

      it("cursors far beyond either end of the history", async () => {
        const future = snowflakeAt(Date.UTC(2040, 0, 1));
        expect(ids(await store().page(channelId, { from: "newest", limit: 2, before: future }))).toEqual(oldestFirst.slice(-2).reverse());
        expect(await store().page(channelId, { from: "oldest", limit: 2, after: future })).toEqual([]);
        expect(await store().page(channelId, { from: "newest", limit: 2, before: 1n })).toEqual([]);
      });
    });
  });
}
