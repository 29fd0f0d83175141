import type { ChannelRecord } from "./channel-store.js";

/** Outcome of {@link DirectMessageStore.addRecipient}. */
export type AddRecipientResult =
  | { status: "added"; channel: ChannelRecord; recipientIds: bigint[] }
  | { status: "already-recipient" }
  /** The group has `limit` recipients already. */
  | { status: "full"; limit: number }
  /** No such group DM (any more). */
  | { status: "missing" };

/** Outcome of {@link DirectMessageStore.removeRecipient}. */
export type RemoveRecipientResult =
  /** `channel` as it is now (a new owner when the owner left); `recipientIds` those who remain. */
  | { status: "removed"; channel: ChannelRecord; recipientIds: bigint[] }
  /** The last recipient left: the group DM is deleted (its history is the caller's to drop). */
  | { status: "deleted" }
  | { status: "not-recipient" };

/**
 * What DMs and group DMs have beyond ChannelStore: recipients who closed a DM (hidden from their
 * list until a new message), and group DM membership and names after creation.
 */
export interface DirectMessageStore {
  /**
   * The DMs and group DMs `userId` is a recipient of and has not closed, newest first (by channel
   * id), only those older than `beforeChannelId` when given, at most `limit`.
   */
  listOpen(userId: bigint, page: { beforeChannelId: bigint | null; limit: number }): Promise<ChannelRecord[]>;

  /**
   * Closes (`hidden` true) or reopens a DM for one recipient. True if the flag changed, false if it
   * was already so or the user is not a recipient. Idempotent.
   */
  setHidden(channelId: bigint, userId: bigint, hidden: boolean): Promise<boolean>;

  /**
   * Reopens a DM for every recipient who closed it, and returns who they were (usually nobody):
   * one statement, run after each message sent into a DM, that writes nothing when no one closed it.
   */
  reopenForAll(channelId: bigint): Promise<bigint[]>;

  /**
   * Adds a recipient to a group DM, atomically with the count: at `maxMembers` recipients the
   * group is `full` and nothing is written, and concurrent adds cannot pass the cap together (the
   * channel is locked while counting). Adding a recipient twice is `already-recipient`.
   */
  addRecipient(channelId: bigint, userId: bigint, maxMembers: number): Promise<AddRecipientResult>;

  /**
   * Removes a recipient from a group DM (leaving, or removed by the owner). If they owned it, the
   * recipient who joined earliest (then the smallest id) owns it now; if nobody remains, the group
   * DM is deleted. All in one transaction.
   */
  removeRecipient(channelId: bigint, userId: bigint): Promise<RemoveRecipientResult>;

  /** Names a group DM (null clears the name); null if there is no such group DM. */
  rename(channelId: bigint, name: string | null): Promise<ChannelRecord | null>;
}
