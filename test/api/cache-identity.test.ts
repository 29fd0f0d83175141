import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type User } from "../support/assertions.js";
import { befriend, guildOf } from "../support/people.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Issue #12: what a normalized client cache (Apollo, urql) needs. Every entity has an `id` built
 * from its natural key, and the same entity answers with the same id wherever it appears (a
 * query, a mutation's answer, a live event), so one write to the cache updates every view of it.
 * {@link NormalizedCache} does what those caches do: merge every object with `__typename` and
 * `id` into one record per `__typename:id`.
 */

class NormalizedCache {
  readonly records = new Map<string, Record<string, unknown>>();

  /** Merges every identified object of an answer (at any depth) into its record. */
  write(value: unknown): void {
    if (Array.isArray(value)) return value.forEach((item) => this.write(item));
    if (value === null || typeof value !== "object") return;
    const object = value as Record<string, unknown>;
    if (typeof object.__typename === "string" && typeof object.id === "string") {
      const key = `${object.__typename}:${object.id}`;
      this.records.set(key, { ...this.records.get(key), ...object });
    }
    Object.values(object).forEach((child) => this.write(child));
  }

  read(typename: string, id: string): Record<string, unknown> | undefined {
    return this.records.get(`${typename}:${id}`);
  }
}

let server: TestServer;
let ada: User;
let bob: User;
let guildId: string;
let channelId: string;

beforeAll(async () => {
  // Acks are flushed by the test (acks.flush()), so ReadStateUpdated comes when it says.
  server = await startTestServer({ env: { ACK_FLUSH_MS: "60000" }, warmUp: true });
  [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
  ({ guildId, channelId } = await guildOf(server, ada, [bob], "Cache"));
}, 120_000);

afterAll(() => server?.close());

describe("entity ids for normalized caches", () => {
  it("ReadState: ackMessage updates the record Channel.readState filled, and ReadStateUpdated names the same one", async () => {
    const cache = new NormalizedCache();
    const sent: string[] = [];
    for (const text of ["one", "two", "three"]) sent.push((await server.ok(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: text }, ada.token)).sendMessage.id);
    const id = `${bob.id}:${channelId}`;

    cache.write(await server.ok(`query($c: ID!) { channel(id: $c) { __typename id readState { __typename id unreadCount lastReadMessageId } } }`, { c: channelId }, bob.token));
    expect(cache.read("ReadState", id)).toMatchObject({ unreadCount: 3, lastReadMessageId: null });

    const otherDevice = subscribe(server.ws(bob.token), `subscription { userEvents { __typename ... on ReadStateUpdated { readState { __typename id unreadCount } } } }`);
    await waitForSubscribers(server, `user:${bob.id}`);
    cache.write(await server.ok(`mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { __typename id unreadCount lastReadMessageId } }`, { c: channelId, m: sent[1] }, bob.token));
    // The view the query filled now shows the ack: one record, updated in place.
    expect(cache.read("ReadState", id)).toMatchObject({ unreadCount: 1, lastReadMessageId: sent[1] });

    await server.app.services.acks.flush();
    const [event] = await otherDevice.waitFor(1);
    expect(event!.data.userEvents.readState).toEqual({ __typename: "ReadState", id, unreadCount: 1 });
    otherDevice.unsubscribe();
  });

  it("Message: an edit heard on messageEvents updates the record history filled", async () => {
    const cache = new NormalizedCache();
    const send = `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "before" }) { id } }`;
    const messageId = (await server.ok(send, { c: channelId }, ada.token)).sendMessage.id as string;
    cache.write(await server.ok(`query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { __typename id content } } } } }`, { c: channelId }, bob.token));
    const live = subscribe(server.ws(bob.token), `subscription { messageEvents { __typename ... on MessageUpdated { message { __typename id content } } } }`);
    await waitForSubscribers(server, `channel:${channelId}`);
    await server.ok(`mutation($c: ID!, $m: ID!) { editMessage(input: { channelId: $c, messageId: $m, content: "after" }) { id } }`, { c: channelId, m: messageId }, ada.token);
    await eventually(() => expect(live.received.some((r) => r.data?.messageEvents.__typename === "MessageUpdated")).toBe(true));
    for (const event of live.received) cache.write(event.data);
    expect(cache.read("Message", messageId)).toMatchObject({ content: "after" });
    live.unsubscribe();
  });

  it("GuildMember, Ban and Invite: the same id in their lists and in the mutations that return them", async () => {
    const carl = await server.signUp("carl");
    const { guildId: modGuild } = await guildOf(server, ada, [bob, carl], "Moderated");

    const members = await server.ok(`query($g: ID!) { guild(id: $g) { members { edges { node { id user { id } } } } } }`, { g: modGuild }, ada.token);
    for (const { node } of members.guild.members.edges) expect(node.id).toBe(`${modGuild}:${node.user.id}`);
    const until = new Date(Date.now() + 60_000).toISOString();
    const timedOut = await server.ok(`mutation($g: ID!, $u: ID!, $t: DateTime) { timeoutMember(input: { guildId: $g, userId: $u, until: $t }) { id } }`, { g: modGuild, u: bob.id, t: until }, ada.token);
    expect(timedOut.timeoutMember.id).toBe(`${modGuild}:${bob.id}`);

    const banned = await server.ok(`mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u }) { id } }`, { g: modGuild, u: carl.id }, ada.token);
    const bans = await server.ok(`query($g: ID!) { guild(id: $g) { bans { edges { node { id } } } } }`, { g: modGuild }, ada.token);
    expect(banned.banMember.id).toBe(`${modGuild}:${carl.id}`);
    expect(bans.guild.bans.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([banned.banMember.id]);

    const invite = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { id code } }`, { g: modGuild }, ada.token)).createInvite;
    expect(invite.id).toBe(invite.code);
    const invites = await server.ok(`query($g: ID!) { guild(id: $g) { invites { edges { node { id code } } } } }`, { g: modGuild }, ada.token);
    expect(invites.guild.invites.edges.map((e: { node: unknown }) => e.node)).toContainEqual(invite);
  });

  it("PermissionOverwrite: setPermissionOverwrite answers the id Channel.permissionOverwrites lists", async () => {
    const set = await server.ok(
      `mutation($c: ID!, $g: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $g, allow: [], deny: [MENTION_EVERYONE] }) { id } }`,
      { c: channelId, g: guildId },
      ada.token,
    );
    expect(set.setPermissionOverwrite.id).toBe(`${channelId}:ROLE:${guildId}`);
    const listed = await server.ok(`query($c: ID!) { channel(id: $c) { permissionOverwrites { id deny } } }`, { c: channelId }, ada.token);
    expect(listed.channel.permissionOverwrites).toEqual([{ id: set.setPermissionOverwrite.id, deny: ["MENTION_EVERYONE"] }]);
  });

  it("Relationship and UserSettings: the owner's id first, the same in lists, mutations and RelationshipChanged", async () => {
    const dan = await server.signUp("dan");
    const events = subscribe(server.ws(ada.token), `subscription { userEvents { __typename ... on RelationshipChanged { relationship { id type } } } }`);
    await waitForSubscribers(server, `user:${ada.id}`);
    const asked = await server.ok(`mutation($u: ID!) { sendFriendRequest(userId: $u) { id type } }`, { u: dan.id }, ada.token);
    expect(asked.sendFriendRequest).toEqual({ id: `${ada.id}:${dan.id}`, type: "OUTGOING" });
    const [event] = await events.waitFor(1);
    expect(event!.data.userEvents.relationship).toEqual({ id: `${ada.id}:${dan.id}`, type: "OUTGOING" });
    const accepted = await server.ok(`mutation($u: ID!) { acceptFriendRequest(userId: $u) { id type } }`, { u: ada.id }, dan.token);
    expect(accepted.acceptFriendRequest).toEqual({ id: `${dan.id}:${ada.id}`, type: "FRIEND" });
    const mine = await server.ok(`{ me { relationships { id type } settings { id } } }`, {}, ada.token);
    expect(mine.me.relationships).toEqual([{ id: `${ada.id}:${dan.id}`, type: "FRIEND" }]);
    expect(mine.me.settings.id).toBe(ada.id);
    const updated = await server.ok(`mutation { updateSettings(input: { allowDirectMessagesFrom: FRIENDS }) { id } }`, {}, ada.token);
    expect(updated.updateSettings.id).toBe(ada.id);
    events.unsubscribe();
  });

  it("Presence, ActiveMember and TypingIndicator: ids from the user (and the guild or channel)", async () => {
    const erin = await server.signUp("erin");
    await befriend(server, erin, ada);
    const { guildId: live, channelId: liveChannel } = await guildOf(server, erin, [ada], "Live");
    // A connected socket makes erin online; her own userEvents hear her status change.
    const own = subscribe(server.ws(erin.token), `subscription { userEvents { __typename ... on PresenceUpdated { status presence { id status } } } }`);
    await waitForSubscribers(server, `user:${erin.id}`);
    await server.ok(`mutation { setPresence(status: DND) }`, {}, erin.token);
    await eventually(() => expect(own.received.map((r) => r.data?.userEvents.presence).filter(Boolean)).toContainEqual({ id: erin.id, status: "DND" }));

    const seen = await server.ok(`query($u: [ID!]!) { presence(userIds: $u) { id status } }`, { u: [erin.id] }, ada.token);
    expect(seen.presence).toEqual([{ id: erin.id, status: "DND" }]);
    const active = await server.ok(`query($g: ID!) { guild(id: $g) { activeMembers { id user { id } } } }`, { g: live }, ada.token);
    expect(active.guild.activeMembers).toContainEqual({ id: `${live}:${erin.id}`, user: { id: erin.id } });

    await server.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: liveChannel }, erin.token);
    const typing = await server.ok(`query($c: ID!) { channel(id: $c) { typing { id user { id } } } }`, { c: liveChannel }, ada.token);
    expect(typing.channel.typing).toEqual([{ id: `${liveChannel}:${erin.id}`, user: { id: erin.id } }]);
    own.unsubscribe();
  });
});
