import { describe, expect, it } from "vitest";
import { ConcordError } from "../../src/errors.js";
import { directMessageRefused, directMessageVerdict } from "../../src/resolvers/direct-message-rules.js";
import type { DirectMessagePolicy, DirectMessageStanding, RelationshipKind } from "../../src/stores/relationship-store.js";

const since = new Date(0);
const side = (kind: RelationshipKind | null) => (kind === null ? null : { kind, since });
const standing = (mine: RelationshipKind | null, theirs: RelationshipKind | null, policy: DirectMessagePolicy, sharesGuild: boolean): DirectMessageStanding => ({
  otherId: 2n,
  pair: { mine: side(mine), theirs: side(theirs) },
  policy,
  sharesGuild,
});
const bob = { id: 2n, username: "bob", bot: false, botOwnerId: null, createdAt: since };

describe("directMessageVerdict", () => {
  it.each([
    // [mine, theirs, their policy, shares a guild, verdict]
    [null, null, "GUILD_MEMBERS", false, "refused"],
    [null, null, "GUILD_MEMBERS", true, "allowed"],
    [null, null, "FRIENDS", true, "refused"],
    [null, null, "EVERYONE", false, "allowed"],
    ["FRIEND", "FRIEND", "FRIENDS", false, "allowed"],
    ["OUTGOING", "INCOMING", "FRIENDS", true, "refused"],
    ["INCOMING", "OUTGOING", "GUILD_MEMBERS", true, "allowed"],
    // A block beats everything, whoever blocked and whatever the setting.
    ["BLOCKED", null, "EVERYONE", true, "you-blocked"],
    ["BLOCKED", "BLOCKED", "EVERYONE", true, "you-blocked"],
    [null, "BLOCKED", "EVERYONE", true, "refused"],
  ] as const)("mine %s, theirs %s, policy %s, shared guild %s: %s", (mine, theirs, policy, shares, verdict) => {
    expect(directMessageVerdict(standing(mine, theirs, policy, shares))).toBe(verdict);
  });
});

describe("directMessageRefused", () => {
  it("reminds a blocker of their block, and tells a blocked user the same as a privacy setting would", () => {
    const own = directMessageRefused("you-blocked", bob, "send");
    expect(own).toBeInstanceOf(ConcordError);
    expect(own.extensions.code).toBe("FORBIDDEN");
    expect(own.message).toMatch(/You blocked bob/);
    const blocked = directMessageRefused("refused", bob, "send");
    expect(blocked.extensions.code).toBe("FORBIDDEN");
    expect(blocked.message).not.toMatch(/block/i);
    // Exactly what a stranger refused by the setting reads.
    expect(blocked.message).toBe(directMessageRefused(directMessageVerdict(standing(null, null, "FRIENDS", true)) as "refused", bob, "send").message);
    expect(directMessageRefused("refused", bob, "open").message).toMatch(/^You cannot open a DM with bob/);
  });
});
