import { hashCost } from "../auth/password.js";
import type { Services } from "../context.js";
import type { UserRecord } from "../stores/account-store.js";

/**
 * After a successful sign-in: if the stored hash was made at a lower cost than the configured
 * one (PASSWORD_HASH_COST was raised since), hashes the password again at the configured cost
 * and stores it, so hashes get stronger as people sign in, without anyone resetting anything.
 *
 * Runs in the background: the sign-in answers at once, and a failure (a full hashing queue, a
 * database error) is logged and changes nothing; the next sign-in tries again. It is skipped
 * while other hashes wait for the hasher, so that re-hashing never delays or crowds out
 * someone's sign-in (after a cost increase, busy instances catch up when they are quiet). The store writes
 * only if the hash is still the one verified (compare and set), so a password changed meanwhile
 * is never overwritten with the old one. Returns the background work (tests wait for it).
 */
export function rehashIfWeak(services: Services, user: UserRecord, password: string, stored: string): Promise<void> {
  const cost = hashCost(stored);
  if (cost === null || cost >= services.passwords.cost || services.passwords.load.waiting > 0) return Promise.resolve();
  return (async () => {
    try {
      const stronger = await services.passwords.hash(password);
      const replaced = await services.accounts.replacePasswordHash(user.id, stored, stronger);
      if (replaced) services.logger.info("password re-hashed at the configured cost", { userId: String(user.id), from: cost, to: services.passwords.cost });
    } catch (error) {
      services.logger.warn("re-hashing a password after sign-in failed; the old hash stays and works", { error, userId: String(user.id) });
    }
  })();
}
