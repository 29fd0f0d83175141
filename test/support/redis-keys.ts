import { Redis } from "ioredis";

/** Deletes every key under `prefix` on the Redis at `url` (SCAN + UNLINK), leaving the rest of the server alone. */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url);
  try {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    await admin.quit();
  }
}
