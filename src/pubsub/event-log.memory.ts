import { MESSAGE_INDEX_FACTOR, type SequencedEvent, type TopicHead } from "./event-bus.js";
import type { ConcordEvent } from "./events.js";
import type { Topic } from "./topics.js";

/** How much of each topic's history a log keeps. */
export interface LogRetention {
  /** Events kept per topic (the oldest go first). */
  maxEvents: number;
  /** Events older than this are dropped (ms). */
  maxAgeMs: number;
}

/** The default retention: the latest 1,000 events of a topic, for at most a day. */
export const DEFAULT_LOG_RETENTION: LogRetention = { maxEvents: 1_000, maxAgeMs: 86_400_000 };

interface TopicLog {
  seq: number;
  /** Messages created, oldest first, from `messageIdsStart` on (at most MESSAGE_INDEX_FACTOR × maxEvents). */
  messageIds: { seq: number; id: bigint }[];
  /** Where `messageIds` starts: trimmed items before it are removed in bulk (see {@link compact}). */
  messageIdsStart: number;
  /** The highest sequence number dropped from `messageIds` (0: none). */
  messageIdsTrimmed: number;
  /** Oldest first from `entriesStart` on; `entries[entriesStart + i].seq === firstSeq + i`. */
  entries: (SequencedEvent & { at: number })[];
  entriesStart: number;
}

/**
 * Drops the first `start` items once they are at least half the array: trimming a full log then
 * costs O(1) per append, amortized, instead of moving every kept item on every append.
 */
function compact<T>(items: T[], start: number): number {
  if (start < 64 || start * 2 < items.length) return start;
  items.splice(0, start);
  return 0;
}

/**
 * Sequences and bounded logs of topics in one process (the memory bus's; the Redis bus keeps
 * them in Redis). One epoch for the process's life: a restart loses every log, and the new
 * epoch tells whoever held a cursor of the old one.
 */
export class MemoryEventLog {
  readonly epoch = `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  private readonly topics = new Map<Topic, TopicLog>();

  constructor(
    private readonly retention: LogRetention = DEFAULT_LOG_RETENTION,
    private readonly now: () => number = Date.now,
  ) {}

  /** Gives the event the topic's next sequence number and logs it. */
  append(topic: Topic, event: ConcordEvent): number {
    let log = this.topics.get(topic);
    if (!log) this.topics.set(topic, (log = { seq: 0, entries: [], entriesStart: 0, messageIds: [], messageIdsStart: 0, messageIdsTrimmed: 0 }));
    const seq = ++log.seq;
    log.entries.push({ seq, event, at: this.now() });
    if (event.type === "MessageCreated") {
      log.messageIds.push({ seq, id: event.message.id });
      const extra = log.messageIds.length - log.messageIdsStart - this.retention.maxEvents * MESSAGE_INDEX_FACTOR;
      if (extra > 0) {
        log.messageIdsStart += extra;
        log.messageIdsTrimmed = log.messageIds[log.messageIdsStart - 1]!.seq;
        log.messageIdsStart = compact(log.messageIds, log.messageIdsStart);
      }
    }
    this.trim(log);
    return seq;
  }

  head(topic: Topic): TopicHead {
    return { epoch: this.epoch, seq: this.topics.get(topic)?.seq ?? 0 };
  }

  replay(topic: Topic, after: number, limit: number): { events: SequencedEvent[]; complete: boolean } {
    const log = this.topics.get(topic);
    if (!log) return { events: [], complete: after >= 0 };
    this.trim(log);
    const first = log.entries[log.entriesStart]?.seq ?? log.seq + 1;
    const start = log.entriesStart + Math.max(0, after + 1 - first);
    const events = log.entries.slice(start, start + Math.max(0, limit)).map(({ seq, event }) => ({ seq, event }));
    const complete = after >= log.seq || after + 1 >= first;
    return { events, complete };
  }

  messageIdsAfter(topic: Topic, after: number, limit: number): { ids: { seq: number; id: bigint }[]; complete: boolean } {
    const log = this.topics.get(topic);
    if (!log) return { ids: [], complete: true };
    const ids: { seq: number; id: bigint }[] = [];
    const max = Math.max(0, limit);
    for (let i = log.messageIdsStart; i < log.messageIds.length && ids.length < max; i++) if (log.messageIds[i]!.seq > after) ids.push(log.messageIds[i]!);
    return { ids, complete: after >= log.messageIdsTrimmed };
  }

  private trim(log: TopicLog): void {
    const oldest = this.now() - this.retention.maxAgeMs;
    let start = Math.max(log.entriesStart, log.entries.length - this.retention.maxEvents);
    while (start < log.entries.length && log.entries[start]!.at < oldest) start++;
    if (start === log.entriesStart) return;
    // Dropped entries release their events now, not at the next compaction.
    log.entries.fill(DROPPED, log.entriesStart, start);
    log.entriesStart = compact(log.entries, start);
  }
}

/** What a dropped entry's slot holds until the array is compacted (so the event itself can be collected). */
const DROPPED = Object.freeze({ seq: 0, at: 0, event: Object.freeze({}) }) as unknown as SequencedEvent & { at: number };
