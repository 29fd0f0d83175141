/**
 * The channel history of bench/history-api.ts: N messages by a few authors, written straight into
 * the server's own store (SQL on its scratch database, or CQL through the Cassandra adapter), and
 * the exact page the API must answer for each cursor, to check every response.
 */
import pg from "pg";
import { seededRandom } from "../../test/support/random.js";
import { seededUserId } from "./harness.js";

/** Concord's snowflake epoch (2025-01-01); ids are (ms since it) << 22 | worker << 12 | sequence. */
const EPOCH_MS = Date.UTC(2025, 0, 1);
/** Seeded messages get worker id 1022: no clash with ids the server mints (worker 0) or seeded users (1023). */
const MESSAGE_WORKER = 1022n;
/** One message a minute, the newest a minute old: 10,000 messages span about a week (one Cassandra bucket boundary or none). */
const SPACING_MS = 60_000;
const WORDS = "the quick brown fox jumps over the lazy dog while a slow green turtle reads the morning paper and sips tea".split(" ");

export interface SeededMessage {
  id: bigint;
  /** The id as the API writes it. */
  idText: string;
  /** Index of the author among the seeded users (bench_<authorIndex>). */
  authorIndex: number;
  content: string;
  editedAt: Date | null;
  /** createdAt as the API serialises it (taken from the id). */
  createdAtIso: string;
}

/**
 * `n` messages oldest first, deterministic for a seed: authors drawn uniformly from `authors`,
 * content of 20 to ~300 characters (whole words) (every 7th with quotes, a line break and an emoji, which JSON
 * escapes or keeps as UTF-8), every 25th edited two minutes after it was sent.
 */
export function makeMessages(n: number, authors: number, seed: number, nowMs: number): SeededMessage[] {
  const random = seededRandom(seed);
  const messages: SeededMessage[] = [];
  for (let i = 0; i < n; i++) {
    const at = nowMs - (n - i) * SPACING_MS;
    const id = (BigInt(at - EPOCH_MS) << 22n) | (MESSAGE_WORKER << 12n);
    const length = 20 + Math.floor(random() ** 2 * 280);
    let content = `${i}:`;
    if (i % 7 === 3) content += ' "quoted" \u201csmart\u201d\nsecond line \u{1F642}';
    while (content.length < length) content += ` ${WORDS[Math.floor(random() * WORDS.length)]}`;
    messages.push({
      id,
      idText: id.toString(),
      authorIndex: Math.floor(random() * authors),
      content,
      editedAt: i % 25 === 0 ? new Date(at + 120_000) : null,
      createdAtIso: new Date(at).toISOString(),
    });
  }
  return messages;
}

/** Inserts the messages into the `messages` table of a Postgres message store (one statement per 5,000), then VACUUM (ANALYZE). */
export async function insertMessagesSql(databaseUrl: string, channelId: string, messages: SeededMessage[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let from = 0; from < messages.length; from += 5_000) {
      const chunk = messages.slice(from, from + 5_000);
      await client.query(
        `INSERT INTO messages (channel_id, id, author_id, content, edited_at, reply_to_id, mention_ids, nonce)
         SELECT $1::bigint, u.id::bigint, u.author_id::bigint, u.content, u.edited_at::timestamptz(3), NULL, '{}', NULL
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, author_id, content, edited_at)`,
        [channelId, chunk.map((m) => m.idText), chunk.map((m) => seededUserId(m.authorIndex).toString()), chunk.map((m) => m.content), chunk.map((m) => m.editedAt?.toISOString() ?? null)],
      );
    }
    await client.query("VACUUM (ANALYZE) messages");
  } finally {
    await client.end();
  }
}

/** The message store's records of the seeded messages (for adapters' `create`). */
export function messageRecords(channelId: bigint, messages: SeededMessage[]) {
  return messages.map((m) => ({
    id: m.id,
    channelId,
    authorId: seededUserId(m.authorIndex),
    content: m.content,
    editedAt: m.editedAt,
    replyToId: null,
    mentionIds: [],
    nonce: null,
  }));
}

interface PageBody {
  data?: {
    channel?: {
      messages?: {
        edges: { node: { id: string; content: string; createdAt: string; editedAt: string | null; author: { id: string; username: string } | null } }[];
        pageInfo: { hasPreviousPage: boolean; startCursor: string | null };
      };
    } | null;
  } | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Null when `text` is exactly the page of `size` messages before index `end` (exclusive, oldest
 * first) with their authors and page info; otherwise what differs first.
 */
export function checkPage(text: string, messages: SeededMessage[], end: number, size: number): string | null {
  let body: PageBody;
  try {
    body = JSON.parse(text) as PageBody;
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  if (body.errors?.length) return `graphql ${body.errors[0]!.extensions?.code ?? "error"}: ${body.errors[0]!.message.slice(0, 200)}`;
  const page = body.data?.channel?.messages;
  if (!page) return `no page: ${text.slice(0, 200)}`;
  const start = Math.max(0, end - size);
  if (page.edges.length !== end - start) return `expected ${end - start} messages, got ${page.edges.length}`;
  for (let i = 0; i < page.edges.length; i++) {
    const got = page.edges[i]!.node;
    const want = messages[start + i]!;
    if (got.id !== want.idText) return `message ${start + i}: id ${got.id}, expected ${want.idText}`;
    if (got.content !== want.content) return `message ${want.idText}: content differs`;
    if (got.createdAt !== want.createdAtIso) return `message ${want.idText}: createdAt ${got.createdAt}, expected ${want.createdAtIso}`;
    if (got.editedAt !== (want.editedAt?.toISOString() ?? null)) return `message ${want.idText}: editedAt ${got.editedAt}`;
    if (got.author?.id !== seededUserId(want.authorIndex).toString() || got.author.username !== `bench_${want.authorIndex}`) return `message ${want.idText}: author ${JSON.stringify(got.author)}`;
  }
  if (page.pageInfo.hasPreviousPage !== start > 0) return `hasPreviousPage ${page.pageInfo.hasPreviousPage} at ${start}`;
  if (page.pageInfo.startCursor !== (messages[start]?.idText ?? null)) return `startCursor ${page.pageInfo.startCursor}`;
  return null;
}
