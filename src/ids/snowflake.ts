/**
 * 64-bit snowflake ids: 42 bits of milliseconds since {@link CONCORD_EPOCH_MS}, 10 bits of worker
 * id, 12 bits of per-millisecond sequence. Ids from one generator are strictly increasing; ids
 * from different workers sort by creation time to the millisecond. A message id is therefore
 * also its timestamp and its cursor.
 */
export const CONCORD_EPOCH_MS = Date.UTC(2025, 0, 1);

const WORKER_BITS = 10n;
const SEQUENCE_BITS = 12n;
const MAX_WORKER = (1 << Number(WORKER_BITS)) - 1;
const MAX_SEQUENCE = (1 << Number(SEQUENCE_BITS)) - 1;
/** Largest value a snowflake may take: ids are signed 64-bit in Postgres and Cassandra. */
export const MAX_SNOWFLAKE = (1n << 63n) - 1n;

export type IdGenerator = () => bigint;

/**
 * Creates a generator for one worker (an instance, or a process role). Two generators must
 * never share a worker id, or ids may collide.
 *
 * The clock may step backwards (NTP): the generator then keeps using the last timestamp it
 * issued, so ids stay unique and increasing.
 */
export function createIdGenerator(workerId: number, now: () => number = Date.now): IdGenerator {
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > MAX_WORKER) {
    throw new RangeError(`worker id must be an integer from 0 to ${MAX_WORKER}, got ${workerId}`);
  }
  const worker = BigInt(workerId);
  let lastMs = -1;
  let sequence = 0;
  return () => {
    let ms = Math.max(now() - CONCORD_EPOCH_MS, lastMs);
    if (ms === lastMs) {
      sequence = (sequence + 1) & MAX_SEQUENCE;
      // 4096 ids in one millisecond: borrow the next millisecond rather than spin.
      if (sequence === 0) ms = lastMs + 1;
    } else {
      sequence = 0;
    }
    lastMs = ms;
    return (BigInt(ms) << (WORKER_BITS + SEQUENCE_BITS)) | (worker << SEQUENCE_BITS) | BigInt(sequence);
  };
}

/** The creation time encoded in a snowflake. */
export function snowflakeTime(id: bigint): Date {
  return new Date(Number(id >> (WORKER_BITS + SEQUENCE_BITS)) + CONCORD_EPOCH_MS);
}

/** The smallest snowflake created at `time`: a lower bound for range queries by time. */
export function snowflakeAt(time: number): bigint {
  return BigInt(Math.max(0, time - CONCORD_EPOCH_MS)) << (WORKER_BITS + SEQUENCE_BITS);
}

/** Parses the decimal string form used on the wire; null when it is not a valid snowflake. */
export function parseSnowflake(value: string): bigint | null {
  if (!/^\d{1,19}$/.test(value)) return null;
  const id = BigInt(value);
  return id > MAX_SNOWFLAKE ? null : id;
}
