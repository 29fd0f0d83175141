import DataLoader from "dataloader";

/** Most keys one batched read asks for. */
const MAX_BATCH = 500;

/**
 * Answers single-key reads made during one turn of the event loop with one read of many keys.
 * A connect storm (thousands of sockets authenticating and announcing presence at once) then
 * costs one query per turn for each kind of read instead of one per socket; a lone call costs
 * one turn of waiting (setImmediate), nothing more. Nothing is cached: each call reads.
 *
 * `readMany` gets distinct keys and returns what it found by key; a key it did not find gets
 * `missing()`. A failed read fails every call of its batch.
 */
export function readBatcher<K, V>(readMany: (keys: K[]) => Promise<Map<K, V>>, missing: () => V, options: { maxBatch?: number } = {}): (key: K) => Promise<V> {
  const loader = new DataLoader<K, V>(
    async (keys) => {
      const found = await readMany([...new Set(keys)]);
      return keys.map((key) => (found.has(key) ? found.get(key)! : missing()));
    },
    { cache: false, maxBatchSize: options.maxBatch ?? MAX_BATCH, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (key) => loader.load(key);
}
