import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Password hashing with scrypt, a memory-hard KDF built into Node (no native add-on to install).
 * The stored form carries its parameters, `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url),
 * so the cost can be raised later without invalidating existing hashes.
 */
const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function scryptOptions(logN: number, r: number, p: number): ScryptOptions {
  // Node refuses to allocate more than 32 MiB unless told: 128 * N * r bytes are needed.
  return { N: 2 ** logN, r, p, maxmem: 128 * 2 ** logN * r * 2 };
}

/**
 * Hashes a password with a fresh random salt; `logN` 17 (the default cost) takes 128 MiB and
 * about 360 ms on one core of the 2-core test machine, 15 a quarter of both. Call it through
 * PasswordHasher, which bounds how many run at once.
 */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, scryptOptions(logN, BLOCK_SIZE, PARALLELISM));
  return ["scrypt", logN, BLOCK_SIZE, PARALLELISM, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Checks a password against a stored hash in constant time; false for malformed hashes. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logNText, rText, pText, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const [logN, r, p] = [Number(logNText), Number(rText), Number(pText)];
  // A corrupt or hostile hash must not make scrypt throw or allocate gigabytes.
  const sane = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
  if (!sane(logN, 20) || !sane(r, 32) || !sane(p, 16)) return false;
  // At most what the highest configurable cost needs (2^20 with r = 8: 1 GiB).
  if (128 * 2 ** logN * r > 2 ** 30) return false;
  const expected = Buffer.from(hash, "base64url");
  try {
    const key = await derive(password, Buffer.from(salt, "base64url"), scryptOptions(logN, r, p));
    return key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}

/**
 * The cost (log2 N) a stored hash was made with, to find hashes weaker than the configured cost
 * and re-hash them at the next sign-in; null for anything that is not a scrypt hash of this format.
 */
export function hashCost(stored: string): number | null {
  const [scheme, logNText] = stored.split("$", 2);
  const logN = Number(logNText);
  return scheme === "scrypt" && Number.isInteger(logN) && logN >= 1 ? logN : null;
}
