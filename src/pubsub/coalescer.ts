interface Slot<V> {
  /** When the last value of this key was emitted. */
  emittedAt: number;
  /** The newest value offered since then, waiting for the window to pass. */
  pending: { value: V } | null;
  timer: NodeJS.Timeout;
}

/**
 * Rate-limits a stream of values per key: at most one emission per key per `windowMs`, and the
 * last value offered within a window wins. The first value of a quiet key is emitted at once;
 * values offered during the window replace each other and the survivor is emitted when the
 * window ends. Memory holds only keys active within the last window.
 *
 * Used for presence: a user flapping between states costs each topic at most one event per
 * window, carrying the final state.
 */
export class Coalescer<K, V> {
  private readonly slots = new Map<K, Slot<V>>();

  constructor(
    private readonly windowMs: number,
    private readonly emit: (key: K, value: V) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Emits `value` now if `key` was quiet for a window, otherwise holds it (replacing any held value). */
  offer(key: K, value: V): void {
    const slot = this.slots.get(key);
    if (slot) {
      slot.pending = { value };
      return;
    }
    this.emitNow(key, value);
  }

  /** Keys with a slot (emitted within the last window). */
  get size(): number {
    return this.slots.size;
  }

  /** Emits every held value now and forgets all keys (graceful shutdown). */
  flush(): void {
    const held = [...this.slots].filter(([, slot]) => slot.pending);
    for (const [, slot] of this.slots) clearTimeout(slot.timer);
    this.slots.clear();
    for (const [key, slot] of held) this.emit(key, slot.pending!.value);
  }

  private emitNow(key: K, value: V): void {
    const slot: Slot<V> = { emittedAt: this.clock(), pending: null, timer: undefined as unknown as NodeJS.Timeout };
    slot.timer = setTimeout(() => this.windowEnded(key, slot), this.windowMs);
    slot.timer.unref?.();
    this.slots.set(key, slot);
    this.emit(key, value);
  }

  private windowEnded(key: K, slot: Slot<V>): void {
    if (this.slots.get(key) !== slot) return;
    this.slots.delete(key);
    if (slot.pending) this.emitNow(key, slot.pending.value);
  }
}
