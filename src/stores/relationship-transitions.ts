import type { PairState, RelationshipKind, RelationshipLimitRefusal, RelationshipLimits, RelationshipRefusal } from "./relationship-store.js";

/**
 * The rules of relationships as a state machine on one pair, shared by every RelationshipStore
 * adapter: given both sides as they are (read under the pair's locks), what the write makes of
 * them, and which caps must have room. Adapters only read, count and write.
 */

/** The writes a RelationshipStore offers, named by what the acting user does. */
export type RelationshipOperation = "request" | "accept" | "remove-request" | "remove-friend" | "block" | "unblock";

/** A cap to check before writing: the user on side `whose` must have fewer than `limit` rows of `kind`. */
export interface CapCheck extends Omit<RelationshipLimitRefusal, "reason"> {
  kind: RelationshipKind;
}

/** What to do with a pair: refuse, leave it as it is, or make both sides `after` once the checks pass. */
export type TransitionPlan =
  | { refuse: Exclude<RelationshipRefusal, RelationshipLimitRefusal> }
  | { unchanged: true }
  | { after: { mine: RelationshipKind | null; theirs: RelationshipKind | null }; checks: CapCheck[] };

const friendsCheck = (whose: "mine" | "theirs", limits: RelationshipLimits): CapCheck => ({ cap: "friendsPerUser", whose, limit: limits.maxFriends, kind: "FRIEND" });

/** The plan for `operation` by the user whose side is `pair.mine`. */
export function planTransition(operation: RelationshipOperation, pair: PairState, limits: RelationshipLimits): TransitionPlan {
  const mine = pair.mine?.kind ?? null;
  const theirs = pair.theirs?.kind ?? null;
  const befriend: TransitionPlan = { after: { mine: "FRIEND", theirs: "FRIEND" }, checks: [friendsCheck("mine", limits), friendsCheck("theirs", limits)] };
  switch (operation) {
    case "request":
      if (mine === "BLOCKED" || theirs === "BLOCKED") return { refuse: { reason: "blocked" } };
      if (mine === "FRIEND") return { refuse: { reason: "already-friends" } };
      if (mine === "OUTGOING") return { unchanged: true };
      // They asked first: asking back is accepting (two requests crossing end as friends).
      if (mine === "INCOMING") return befriend;
      return {
        after: { mine: "OUTGOING", theirs: "INCOMING" },
        checks: [
          // At the friend cap a request could never be accepted: say so now, not at the accept.
          friendsCheck("mine", limits),
          { cap: "pendingFriendRequests", whose: "mine", limit: limits.maxPending, kind: "OUTGOING" },
          { cap: "pendingFriendRequests", whose: "theirs", limit: limits.maxPending, kind: "INCOMING" },
        ],
      };
    case "accept":
      if (mine === "FRIEND") return { unchanged: true };
      if (mine !== "INCOMING") return { refuse: { reason: "no-request" } };
      return befriend;
    case "remove-request":
      if (mine !== "INCOMING" && mine !== "OUTGOING") return { refuse: { reason: "no-request" } };
      return { after: { mine: null, theirs: null }, checks: [] };
    case "remove-friend":
      if (mine !== "FRIEND") return { refuse: { reason: "not-friends" } };
      return { after: { mine: null, theirs: null }, checks: [] };
    case "block":
      if (mine === "BLOCKED") return { unchanged: true };
      // Their own block of us stays; anything else between us goes.
      return {
        after: { mine: "BLOCKED", theirs: theirs === "BLOCKED" ? "BLOCKED" : null },
        checks: [{ cap: "blocksPerUser", whose: "mine", limit: limits.maxBlocks, kind: "BLOCKED" }],
      };
    case "unblock":
      if (mine !== "BLOCKED") return { refuse: { reason: "not-blocked" } };
      return { after: { mine: null, theirs }, checks: [] };
  }
}
