/**
 * Message ids this instance has seen deleted recently, so a `MessageUpdated` that arrives after
 * the `MessageDeleted` of the same message is dropped instead of delivered.
 *
 * An edit and a delete of one message can race: the edit's store write lands first, the delete's
 * event is published first (an edit that also rewrites mentions publishes later), and the
 * subscriber would see a deleted message come back. A delete is final, so any update that
 * arrives after it is stale by definition; remembering the id for a few minutes covers any
 * publish delay a live instance can have. Bounded: the oldest ids go first past `capacity`.
 */
export class RecentDeletions {
  /** id → when it was recorded (insertion order is age order). */
  private readonly ids = new Map<bigint, number>();

  constructor(
    private readonly capacity = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a deleted message id. Idempotent (the first sighting's time is kept). */
  add(messageId: bigint): void {
    if (this.ids.has(messageId)) return;
    this.ids.set(messageId, this.now());
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
  }

  /** True if the message was seen deleted within the last `ttlMs`. */
  has(messageId: bigint): boolean {
    const at = this.ids.get(messageId);
    if (at === undefined) return false;
    if (this.now() - at <= this.ttlMs) return true;
    this.ids.delete(messageId);
    return false;
  }
}
