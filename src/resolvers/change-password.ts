import { checkNewPassword, checkPasswordText } from "../auth/password-policy.js";
import type { RequestContext } from "../context.js";
import { badInput, conflict, forbidden } from "../errors.js";
import { requireViewer } from "./access.js";
import { charge, perUser } from "./rate-limit.js";
import { ALL_SESSIONS, announceRevocation } from "./session-revocation.js";
import { currentTokenHash } from "./sessions.js";

/**
 * Changes a person's password, given the current one, and signs out every other session (a
 * password change is what someone does after a device was lost or the password leaked); the
 * session making the request stays signed in.
 *
 * The current password is checked first and a wrong one is refused with only that said
 * (BAD_USER_INPUT on `currentPassword`), so someone holding a stolen token learns nothing else,
 * not even whether their new password would pass. Then the new password must pass the same
 * policy as at registration and differ from the current one. Nothing is written unless
 * everything passes; the hash and the revocations are written in one transaction.
 */
export async function changePassword(ctx: RequestContext, input: { currentPassword: string; newPassword: string }): Promise<boolean> {
  const viewer = requireViewer(ctx);
  if (viewer.bot) throw forbidden("Bots have no password: they use their token, which their owner replaces with resetBotToken.");
  // Before any hashing: a stolen token gets a handful of guesses at the current password per hour.
  await charge(ctx, perUser(ctx, "account.secret"));
  const keep = currentTokenHash(ctx);
  const { services } = ctx;
  checkPasswordText(input.currentPassword, "currentPassword");
  const found = await services.accounts.findCredentials(viewer.username);
  const stored = found?.user.id === viewer.id ? found.passwordHash : null;
  // With no stored hash the hasher checks a decoy, so every refusal takes as long.
  const ok = await services.passwords.verify(input.currentPassword, stored);
  if (!ok || stored === null) throw badInput("currentPassword", "The current password is wrong.");
  const next = checkNewPassword(input.newPassword, viewer.username, "newPassword");
  if (next === input.currentPassword) throw badInput("newPassword", "newPassword must differ from the current password.");
  const hash = await services.passwords.hash(next);
  const revoked = await services.accounts.changePassword(viewer.id, stored, hash, keep);
  if (revoked === null) throw conflict("Your password was changed from another session meanwhile; nothing was changed here.");
  await announceRevocation(services, { userId: viewer.id, tokenHash: ALL_SESSIONS, keepTokenHash: keep });
  return true;
}
