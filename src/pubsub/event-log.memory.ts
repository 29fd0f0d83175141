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
  /** Messages created, oldest first (at most MESSAGE_INDEX_FACTOR × maxEvents). */
  messageIds: { seq: number; id: bigint }[];
  /** The highest sequence number dropped from `messageIds` (0: none). */
  messageIdsTrimmed: number;
  /** Oldest first; `entries[i].seq === firstSeq + i`. */
  entries: (SequencedEvent & { at: number })[];
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
    if (!log) this.topics.set(topic, (log = { seq: 0, entries: [], messageIds: [], messageIdsTrimmed: 0 }));
    const seq = ++log.seq;
    log.entries.push({ seq, event, at: this.now() });
    if (event.type === "MessageCreated") {
      log.messageIds.push({ seq, id: event.message.id });
      const extra = log.messageIds.length - this.retention.maxEvents * MESSAGE_INDEX_FACTOR;
      if (extra > 0) log.messageIdsTrimmed = log.messageIds.splice(0, extra).at(-1)!.seq;
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
    const first = log.entries[0]?.seq ?? log.seq + 1;
    const start = Math.max(0, after + 1 - first);
    const events = log.entries.slice(start, start + Math.max(0, limit)).map(({ seq, event }) => ({ seq, event }));
    const complete = after >= log.seq || after + 1 >= first;
    return { events, complete };
  }

  messageIdsAfter(topic: Topic, after: number, limit: number): { ids: { seq: number; id: bigint }[]; complete: boolean } {
    const log = this.topics.get(topic);
    if (!log) return { ids: [], complete: true };
    return { ids: log.messageIds.filter((m) => m.seq > after).slice(0, Math.max(0, limit)), complete: after >= log.messageIdsTrimmed };
  }

  private trim(log: TopicLog): void {
    const oldest = this.now() - this.retention.maxAgeMs;
    let drop = Math.max(0, log.entries.length - this.retention.maxEvents);
    while (drop < log.entries.length && log.entries[drop]!.at < oldest) drop++;
    if (drop > 0) log.entries.splice(0, drop);
  }
}
