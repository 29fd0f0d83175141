import type { Services } from "../context.js";
import { badInput } from "../errors.js";
import { snowflakeAt } from "../ids/snowflake.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { MAX_AUTHOR_PAGE } from "../stores/message-store.js";
import { announceMessageDeleted } from "./message-deletion.js";

/**
 * `banMember(deleteMessageSeconds)`, as in Discord: the banned user's messages sent in the
 * guild's text channels within the last N seconds (0 to 7 days) are deleted, each one exactly as
 * deleteMessage deletes it (store delete, mention cleanup, MessageDeleted on its channel in the
 * channel's order: see message-deletion.ts), so live streams and history agree.
 *
 * The ban answers once it is stored and announced; the purge runs after it, in the background
 * of the instance that took the ban, so a ban never waits for thousands of deletions. Bounded:
 * the store is asked for ids {@link PurgeLimits.pageSize} at a time, newest first (the messages
 * people are looking at go first), at most {@link PurgeLimits.perChannel} per channel and
 * {@link PurgeLimits.perBan} per ban (what is older stays; a moderator deletes it by hand);
 * {@link PurgeLimits.concurrency} deletions at once, and {@link MAX_CONCURRENT_PURGES} purges at
 * once per instance (more wait their turn). Cassandra has no index by author: finding a user's
 * messages reads the ids and authors of the window's messages, only in the time buckets the
 * window covers (MessageStore.findByAuthor).
 *
 * Not durable: a purge stops at its next page when the instance shuts down (logged with what
 * was done) and is not resumed; banning the user again with deleteMessageSeconds runs it again
 * (a ban that stands is kept, the purge still runs). A failure is logged and ends that purge.
 */

/** Longest window a ban may purge, in seconds (Discord's: 7 days). */
export const MAX_DELETE_MESSAGE_SECONDS = 604_800;

/** How much one purge may do; see the module's JSDoc. */
export interface PurgeLimits {
  /** Ids asked of the message store per read (1..MAX_AUTHOR_PAGE). */
  pageSize: number;
  /** Most messages one purge deletes in one channel. */
  perChannel: number;
  /** Most messages one purge deletes over all of the guild's channels. */
  perBan: number;
  /** Deletions one purge has in flight at once. */
  concurrency: number;
}

/** The limits every ban uses: 100 ids per read, 1,000 messages per channel, 10,000 per ban, 4 deletions at once. */
export const PURGE_LIMITS: Readonly<PurgeLimits> = { pageSize: 100, perChannel: 1_000, perBan: 10_000, concurrency: 4 };

/** Purges running at once per instance; further ones wait in order. */
export const MAX_CONCURRENT_PURGES = 2;

/** What a purge did. */
export interface PurgeOutcome {
  /** Messages deleted (and announced). */
  deleted: number;
  /** Channels in which it deleted at least one. */
  channels: number;
  /** False when it stopped early: a limit was reached, the instance shut down, or a read failed. */
  complete: boolean;
}

/**
 * The validated `deleteMessageSeconds` of a ban: absent means 0 (delete nothing). BAD_USER_INPUT
 * (field deleteMessageSeconds) unless a whole number from 0 to {@link MAX_DELETE_MESSAGE_SECONDS};
 * call it before anything is written.
 */
export function deleteMessageSecondsOf(value: number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0 || value > MAX_DELETE_MESSAGE_SECONDS) {
    throw badInput("deleteMessageSeconds", `deleteMessageSeconds must be a whole number of seconds from 0 to ${MAX_DELETE_MESSAGE_SECONDS} (7 days).`);
  }
  return value;
}

/** Per-instance bookkeeping: the purges in flight, the queue for a slot, and whether the instance is stopping. */
interface Runner {
  running: number;
  waiting: (() => void)[];
  tasks: Set<Promise<PurgeOutcome>>;
  stopping: boolean;
}

const runners = new WeakMap<Services, Runner>();

function runnerOf(services: Services): Runner {
  let runner = runners.get(services);
  if (!runner) runners.set(services, (runner = { running: 0, waiting: [], tasks: new Set(), stopping: false }));
  return runner;
}

/**
 * Starts deleting `userId`'s messages in the guild's text channels sent within the last
 * `seconds` (validated with {@link deleteMessageSecondsOf}; 0 does nothing) and returns at once.
 * The returned promise settles when the purge is over (tests wait for it); it never rejects.
 */
export function startBanPurge(services: Services, input: { guildId: bigint; userId: bigint; seconds: number; limits?: Partial<PurgeLimits> }): Promise<PurgeOutcome> {
  if (input.seconds <= 0) return Promise.resolve({ deleted: 0, channels: 0, complete: true });
  const limits: PurgeLimits = { ...PURGE_LIMITS, ...input.limits };
  limits.pageSize = Math.max(1, Math.min(limits.pageSize, MAX_AUTHOR_PAGE));
  // Exclusive lower bound: the first id that could have been minted `seconds` ago, minus one.
  const after = snowflakeAt(services.now().getTime() - input.seconds * 1_000) - 1n;
  const runner = runnerOf(services);
  const task = (async (): Promise<PurgeOutcome> => {
    await slot(runner);
    try {
      return await purge(services, runner, { guildId: input.guildId, userId: input.userId, after }, limits);
    } finally {
      runner.running--;
      runner.waiting.shift()?.();
    }
  })();
  runner.tasks.add(task);
  void task.finally(() => runner.tasks.delete(task));
  return task;
}

/** Waits for a free purge slot (one of MAX_CONCURRENT_PURGES), in arrival order. */
async function slot(runner: Runner): Promise<void> {
  if (runner.running >= MAX_CONCURRENT_PURGES) await new Promise<void>((resolve) => runner.waiting.push(resolve));
  runner.running++;
}

/** Resolves when every purge started so far on this instance is over (tests). */
export async function banPurgesSettled(services: Services): Promise<void> {
  await Promise.all([...runnerOf(services).tasks]);
}

/**
 * Graceful shutdown: purges stop at their next page (what they deleted is announced), queued
 * ones do not start; resolves when all have stopped. Call before the stores close.
 */
export async function stopBanPurges(services: Services): Promise<void> {
  const runner = runnerOf(services);
  runner.stopping = true;
  await banPurgesSettled(services);
}

async function purge(services: Services, runner: Runner, target: { guildId: bigint; userId: bigint; after: bigint }, limits: PurgeLimits): Promise<PurgeOutcome> {
  const outcome: PurgeOutcome = { deleted: 0, channels: 0, complete: true };
  const fields = () => ({ guildId: String(target.guildId), userId: String(target.userId), deleted: outcome.deleted, channels: outcome.channels });
  try {
    const channels = (await services.channels.listGuildChannels(target.guildId)).filter((c) => c.kind === "GUILD_TEXT");
    let budget = limits.perBan;
    for (const channel of channels) {
      if (runner.stopping || budget <= 0) {
        outcome.complete = false;
        break;
      }
      const result = await purgeChannel(services, runner, channel, target, Math.min(limits.perChannel, budget), limits);
      budget -= result.found;
      outcome.deleted += result.deleted;
      if (result.deleted > 0) outcome.channels++;
      if (!result.complete) outcome.complete = false;
    }
  } catch (error) {
    services.logger.error("a ban's message purge failed; the messages it had not reached stay (ban again with deleteMessageSeconds to retry)", { error, ...fields() });
    return { ...outcome, complete: false };
  }
  if (runner.stopping && !outcome.complete) services.logger.warn("a ban's message purge was stopped by shutdown before it finished", fields());
  else services.logger.info("a ban's message purge is over", { ...fields(), complete: outcome.complete });
  return outcome;
}

/**
 * One channel, newest first: reads ids a page at a time (walking on from the oldest id of the
 * previous page) and deletes each. `cap` bounds the ids found, whether or not their deletion
 * still found them (a racing deleteMessage may win).
 */
async function purgeChannel(
  services: Services,
  runner: Runner,
  channel: ChannelRecord,
  target: { userId: bigint; after: bigint },
  cap: number,
  limits: PurgeLimits,
): Promise<{ found: number; deleted: number; complete: boolean }> {
  let found = 0;
  let deleted = 0;
  let before: bigint | undefined;
  for (;;) {
    const limit = Math.min(limits.pageSize, cap - found);
    if (limit <= 0 || runner.stopping) return { found, deleted, complete: false };
    const ids = await services.messages.findByAuthor(channel.id, target.userId, { after: target.after, ...(before === undefined ? {} : { before }), limit });
    found += ids.length;
    for (let i = 0; i < ids.length; i += limits.concurrency) {
      const done = await Promise.all(ids.slice(i, i + limits.concurrency).map((id) => deleteOne(services, channel.id, id)));
      deleted += done.filter(Boolean).length;
    }
    if (ids.length < limit) return { found, deleted, complete: true };
    before = ids.at(-1)!;
  }
}

/** Deletes one message as deleteMessage does; false if it was already gone. */
async function deleteOne(services: Services, channelId: bigint, messageId: bigint): Promise<boolean> {
  if (!(await services.messages.delete(channelId, messageId))) return false;
  await announceMessageDeleted(services, channelId, messageId);
  return true;
}
