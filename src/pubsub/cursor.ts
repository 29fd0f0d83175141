import type { TopicHead } from "./event-bus.js";

/**
 * Event cursors: a place in one topic's sequence (its epoch and a sequence number), opaque to
 * clients. `v1.` then base64url of `<epoch>.<seq>`.
 */

/** The cursor of a place in a topic's sequence. */
export function encodeCursor(place: TopicHead): string {
  return `v1.${Buffer.from(`${place.epoch}.${place.seq}`).toString("base64url")}`;
}

/** The place a cursor names, or null if it is not one of ours. */
export function decodeCursor(cursor: string): TopicHead | null {
  if (!cursor.startsWith("v1.") || cursor.length > 200) return null;
  const text = Buffer.from(cursor.slice(3), "base64url").toString("utf8");
  const dot = text.lastIndexOf(".");
  if (dot < 0) return null;
  const seq = Number(text.slice(dot + 1));
  const epoch = text.slice(0, dot);
  if (!Number.isSafeInteger(seq) || seq < 0 || !/^[A-Za-z0-9]*$/.test(epoch)) return null;
  return { epoch, seq };
}
