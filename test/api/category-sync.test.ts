import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, waitForSubscribers, type Subscription, type TestServer } from "../support/server.js";

/**
 * Category permission sync over real HTTP and graphql-ws, as in Discord: a channel created in a
 * private category is private too; `permissionsSynced` says whether a channel still has exactly
 * its category's overwrites; `updateChannel(lockPermissions: true)` copies them again, and a
 * plain member's live guildEvents sees the channel appear (ChannelCreated) or go
 * (ChannelDeleted) as the sync reveals or hides it.
 */

const CREATE_GUILD = `mutation { createGuild(input: { name: "Categorised" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const FIELDS = `id name parent { id } permissionsSynced permissionOverwrites { targetKind targetId allow deny }`;
const CREATE = `mutation($g: ID!, $n: String!, $k: GuildChannelKind, $p: ID, $o: [PermissionOverwriteInput!]) {
  createChannel(input: { guildId: $g, name: $n, kind: $k, parentId: $p, permissionOverwrites: $o }) { ${FIELDS} }
}`;
const UPDATE = `mutation($c: ID!, $p: ID, $clear: Boolean, $lock: Boolean, $n: String) {
  updateChannel(input: { channelId: $c, parentId: $p, clearParent: $clear, lockPermissions: $lock, name: $n }) { ${FIELDS} }
}`;
const SET = `mutation($c: ID!, $k: OverwriteTarget!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) {
  setPermissionOverwrite(input: { channelId: $c, targetKind: $k, targetId: $t, allow: $a, deny: $d }) { targetKind }
}`;
const CHANNEL = `query($c: ID!) { channel(id: $c) { ${FIELDS} } }`;
const CHANNELS = `query($g: ID!) { guild(id: $g) { channels { id permissionsSynced } } }`;
const LIVE = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelCreated { channel { id permissionsSynced } } ... on ChannelUpdated { channel { id permissionsSynced } } ... on ChannelDeleted { channelId } } }`;

describe("category permission sync", () => {
  let server: TestServer;
  let database: Database;
  let ada: User; // owner
  let mo: User; // moderator: MANAGE_CHANNELS and MANAGE_ROLES, not MANAGE_MESSAGES
  let cm: User; // channel manager: MANAGE_CHANNELS only
  let pat: User; // plain member
  let guildId: string;
  let modRole: string;
  let staff: string; // a private category: @everyone denied, moderators allowed
  let patsLive: Subscription;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
  const privateOverwrites = () => [
    { targetKind: "ROLE", targetId: guildId, allow: [], deny: ["VIEW_CHANNEL"] },
    { targetKind: "ROLE", targetId: modRole, allow: ["VIEW_CHANNEL"], deny: [] },
  ];
  /** What pat's guildEvents delivered since the last call, as [type, channel id]. */
  let seenSoFar = 0;
  async function patHears(count: number): Promise<[string, string][]> {
    const all = await patsLive.waitFor(seenSoFar + count);
    const fresh = all.slice(seenSoFar, seenSoFar + count);
    seenSoFar += count;
    return fresh.map((r) => [r.data!.guildEvents.__typename, r.data!.guildEvents.channel?.id ?? r.data!.guildEvents.channelId]);
  }
  /** A public channel pat is sure to hear of: what pat hears before it, pat heard in order. */
  async function marker(): Promise<string> {
    return (await ok(CREATE, { g: guildId, n: `marker-${seenSoFar}` }, ada)).createChannel.id;
  }
  const overwriteCount = (channelId: string) => database.prisma.permissionOverwrite.count({ where: { channelId: BigInt(channelId) } });

  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
    [ada, mo, cm, pat] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("cm"), server.signUp("pat")]);
    const guild = await ok(CREATE_GUILD, {}, ada);
    guildId = guild.createGuild.id;
    for (const user of [mo, cm, pat]) await ok(JOIN, { c: (await ok(INVITE, { g: guildId }, ada)).createInvite.code }, user);
    modRole = (await ok(CREATE_ROLE, { g: guildId, n: "Moderators", p: ["MANAGE_CHANNELS", "MANAGE_ROLES"] }, ada)).createRole.id;
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: modRole }, ada);
    const cmRole = (await ok(CREATE_ROLE, { g: guildId, n: "Channel managers", p: ["MANAGE_CHANNELS"] }, ada)).createRole.id;
    await ok(ADD_ROLE, { g: guildId, u: cm.id, r: cmRole }, ada);
    staff = (await ok(CREATE, { g: guildId, n: "Staff", k: "GUILD_CATEGORY", o: privateOverwrites() }, ada)).createChannel.id;
    patsLive = subscribe(server.ws(pat.token), LIVE, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`);
  }, 60_000);
  afterAll(() => server?.close());

  it("a channel created in a private category without overwrites copies the category's: a plain member cannot see it", async () => {
    const created = (await ok(CREATE, { g: guildId, n: "staff-chat", p: staff }, ada)).createChannel;
    expect(created).toMatchObject({ name: "staff-chat", parent: { id: staff }, permissionsSynced: true });
    expect(created.permissionOverwrites).toEqual(privateOverwrites());
    // pat's next event is the marker: the new channel was never announced to them.
    const next = await marker();
    expect(await patHears(1)).toEqual([["ChannelCreated", next]]);
    expectError(await server.gql(CHANNEL, { c: created.id }, pat.token), "NOT_FOUND", /not found/);
    expect((await ok(CHANNELS, { g: guildId }, pat)).guild.channels.map((c: { id: string }) => c.id)).not.toContain(created.id);
    // The moderators' role may: they see it, synced.
    expect((await ok(CHANNEL, { c: created.id }, mo)).channel.permissionsSynced).toBe(true);
    // In lists: synced channels true, channels in no category and categories null.
    const list: { id: string; permissionsSynced: boolean | null }[] = (await ok(CHANNELS, { g: guildId }, ada)).guild.channels;
    expect(list.find((c) => c.id === created.id)?.permissionsSynced).toBe(true);
    expect(list.find((c) => c.id === staff)?.permissionsSynced).toBeNull();
    expect(list.find((c) => c.id === next)?.permissionsSynced).toBeNull();
    // Given overwrites, even none, are kept as given: not synced.
    const open = (await ok(CREATE, { g: guildId, n: "staff-open", p: staff, o: [] }, ada)).createChannel;
    expect(open).toMatchObject({ permissionsSynced: false, permissionOverwrites: [] });
    expect(await patHears(1)).toEqual([["ChannelCreated", open.id]]);
  });

  it("permissionsSynced turns false when the channel's overwrites change; lockPermissions restores it, hiding the channel from pat again", async () => {
    const chat = (await ok(CREATE, { g: guildId, n: "sync-me", p: staff }, ada)).createChannel.id;
    // Opened to @everyone: pat hears it appear; it is no longer synced.
    await ok(SET, { c: chat, k: "ROLE", t: guildId, a: ["VIEW_CHANNEL"], d: [] }, ada);
    expect(await patHears(1)).toEqual([["ChannelCreated", chat]]);
    expect((await ok(CHANNEL, { c: chat }, pat)).channel.permissionsSynced).toBe(false);

    const synced = (await ok(UPDATE, { c: chat, lock: true }, mo)).updateChannel;
    expect(synced).toMatchObject({ id: chat, parent: { id: staff }, permissionsSynced: true });
    expect(synced.permissionOverwrites).toEqual(privateOverwrites());
    expect(await patHears(1)).toEqual([["ChannelDeleted", chat]]);
    expectError(await server.gql(CHANNEL, { c: chat }, pat.token), "NOT_FOUND", /not found/);
    // Syncing a synced channel changes nothing (and pat hears nothing of it).
    expect((await ok(UPDATE, { c: chat, lock: true }, ada)).updateChannel.permissionsSynced).toBe(true);
    const next = await marker();
    expect(await patHears(1)).toEqual([["ChannelCreated", next]]);
  });

  it("moving a channel into a category keeps its overwrites; with lockPermissions it takes the category's in the same call", async () => {
    const lobby = (await ok(CREATE, { g: guildId, n: "lobby" }, ada)).createChannel;
    expect(lobby.permissionsSynced).toBeNull();
    const hall = (await ok(CREATE, { g: guildId, n: "hall" }, ada)).createChannel;
    expect(await patHears(2)).toEqual([["ChannelCreated", lobby.id], ["ChannelCreated", hall.id]]);

    const moved = (await ok(UPDATE, { c: lobby.id, p: staff }, ada)).updateChannel;
    expect(moved).toMatchObject({ parent: { id: staff }, permissionsSynced: false, permissionOverwrites: [] });
    expect(await patHears(1)).toEqual([["ChannelUpdated", lobby.id]]);
    expect((await ok(CHANNEL, { c: lobby.id }, pat)).channel.id).toBe(lobby.id);

    const locked = (await ok(UPDATE, { c: hall.id, p: staff, lock: true, n: "staff-hall" }, mo)).updateChannel;
    expect(locked).toMatchObject({ name: "staff-hall", parent: { id: staff }, permissionsSynced: true });
    expect(await patHears(1)).toEqual([["ChannelDeleted", hall.id]]);
    expectError(await server.gql(CHANNEL, { c: hall.id }, pat.token), "NOT_FOUND", /not found/);
  });

  it("lockPermissions follows setPermissionOverwrite's rules, and bad input writes nothing", async () => {
    // A category whose overwrites set a permission mo does not hold (MANAGE_MESSAGES).
    const vault = (await ok(CREATE, { g: guildId, n: "Vault", k: "GUILD_CATEGORY", o: [{ targetKind: "MEMBER", targetId: pat.id, allow: ["MANAGE_MESSAGES"], deny: [] }] }, ada)).createChannel.id;
    const inVault = (await ok(CREATE, { g: guildId, n: "vault-chat", p: vault, o: [] }, ada)).createChannel.id;
    expectError(await server.gql(UPDATE, { c: inVault, lock: true }, mo.token), "FORBIDDEN", /missing: MANAGE_MESSAGES/);
    // Channel managers without MANAGE_ROLES may move channels, not sync them.
    expectError(await server.gql(UPDATE, { c: inVault, lock: true }, cm.token), "FORBIDDEN", /MANAGE_ROLES/);
    expectError(await server.gql(UPDATE, { c: inVault, lock: true }, pat.token), "FORBIDDEN", /MANAGE_CHANNELS/);
    expect(await overwriteCount(inVault)).toBe(0);

    const loose = (await ok(CREATE, { g: guildId, n: "loose" }, ada)).createChannel.id;
    expectError(await server.gql(UPDATE, { c: loose, lock: true }, ada.token), "BAD_USER_INPUT", /in no category/, "lockPermissions");
    expectError(await server.gql(UPDATE, { c: inVault, clear: true, lock: true }, ada.token), "BAD_USER_INPUT", /in no category/, "lockPermissions");
    expectError(await server.gql(UPDATE, { c: staff, lock: true }, ada.token), "BAD_USER_INPUT", /category has no category/, "lockPermissions");
    expectError(await server.gql(UPDATE, { c: loose, lock: false }, ada.token), "BAD_USER_INPUT", /Give something to change/, "name");
    expectError(await server.gql(UPDATE, { c: loose, p: inVault, lock: true }, ada.token), "BAD_USER_INPUT", /category of the same guild/, "parentId");
    const still = (await ok(CHANNEL, { c: inVault }, ada)).channel;
    expect(still).toMatchObject({ name: "vault-chat", parent: { id: vault }, permissionsSynced: false, permissionOverwrites: [] });
    expect((await ok(CHANNEL, { c: loose }, ada)).channel).toMatchObject({ parent: null, permissionsSynced: null });

    // The owner holds every permission: the sync goes through.
    const synced = (await ok(UPDATE, { c: inVault, lock: true }, ada)).updateChannel;
    expect(synced).toMatchObject({ permissionsSynced: true, permissionOverwrites: [{ targetKind: "MEMBER", targetId: pat.id, allow: ["MANAGE_MESSAGES"], deny: [] }] });
  });
});
