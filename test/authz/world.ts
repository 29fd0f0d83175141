import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { TestServer } from "../support/server.js";

/**
 * The world the authorization matrix (authorization-matrix.test.ts) plays in: one guild and one
 * person or bot per kind of caller the issue names (#10), built through the API as a client
 * would build it, plus the people the operations act on.
 *
 * The guild (owned by `owner`) has:
 * - roles Admin (ADMINISTRATOR) above Mods (KICK_MEMBERS, BAN_MEMBERS, MANAGE_MESSAGES), and a
 *   second member with Admin (the admin's equal);
 * - #ops, "the channel": every member sees it except `hidden`, whom a MEMBER overwrite denies
 *   VIEW_CHANNEL (Mods also has a neutral overwrite there, for the overwrite operations to remove);
 * - a category only the owner and Admin see, holding #lobby, which every member sees;
 * - an unlimited invite, and one tess made; a message in #ops from each member (written before the overwrite, the
 *   ban and the timeout, so `hidden`, `banned` and `timedOut` have one too) and one from `tess`.
 *
 * Actors: `owner`; `admin` and `moderator` (the roles above); `member` (@everyone only);
 * `hidden`; `timedOut` (timeoutMember); `banned` (was a member, then banMember); `outsider` (no
 * shared guild); `blocked` (a member whom `tess` blocked); `anonymous` (no token); `bot` (a bot
 * the owner created, a member).
 *
 * People the operations act on, who are not actors: `tess`, a plain member (the member to kick,
 * ban, befriend, DM; she blocked `blocked`); `lou` and `vic`, in no guild, accepting DMs from
 * everyone and friends with every person actor (and each other, and tess), so every person has
 * friends to put in a group DM. Every person actor has a DM with lou, and is in a group DM that
 * lou owns (with vic); lou also has a DM and a group DM (with vic and tess) that no actor is in.
 */

/** Every kind of caller, in the matrix's column order. A new kind: a line here, its setting-up in buildWorld (and cloneActor), its column in expectations.ts's rows. */
export const ACTOR_NAMES = [
  "owner",
  "admin",
  "moderator",
  "member",
  "hidden",
  "timedOut",
  "banned",
  "outsider",
  "blocked",
  "anonymous",
  "bot",
] as const;
export type ActorName = (typeof ACTOR_NAMES)[number];

/** Actors who are people (may have friends, passwords, group DMs). */
export const PEOPLE: readonly ActorName[] = ACTOR_NAMES.filter((a) => a !== "anonymous" && a !== "bot");
/** Actors who belong to the guild. */
export const MEMBERS: readonly ActorName[] = ["owner", "admin", "moderator", "member", "hidden", "timedOut", "blocked", "bot"];

export const PASSWORDS = ["correct horse battery", "another horse battery staple"] as const;

export interface Person {
  id: string;
  username: string;
  token: string;
  password: string;
}

export interface ActorState {
  name: ActorName;
  /** Undefined for anonymous. */
  id?: string;
  username?: string;
  /** Undefined for anonymous. Replaced when an operation revoked it (see World.repairToken). */
  token?: string;
  /** People only; changePassword changes it. */
  password?: string;
  /** Their message in #ops (members, banned included: written before the ban). */
  ownMessageId?: string;
  /** Their DM with lou. */
  ownDmId?: string;
  /** A group DM lou owns that they are in (people only). */
  louGroupId?: string;
  /** More messages of theirs in #ops, for cells that delete one when they can no longer post (timedOut). */
  spareMessageIds?: string[];
  /** An invite of theirs from before they lost the right to make one (banned), or spares to revoke (timedOut). */
  ownInviteCode?: string;
  spareInviteCodes?: string[];
}

export interface World {
  guildId: string;
  generalId: string;
  /** #ops: the channel `hidden` may not see. */
  channelId: string;
  /** A category only the owner and admins see (@everyone denied VIEW_CHANNEL), holding #lobby, which everyone sees. */
  secretCategoryId: string;
  lobbyId: string;
  adminRoleId: string;
  modRoleId: string;
  /** Another member with Admin (the admin's equal: neither outranks the other). */
  secondAdminId: string;
  inviteCode: string;
  tess: Person;
  lou: Person;
  vic: Person;
  /** Tess's message in #ops. */
  tessMessageId: string;
  /** The id of tess's session (for revoking someone else's session). */
  tessSessionId: string;
  /** An invite tess created. */
  tessInviteCode: string;
  /** Lou's DM with tess, and lou's group DM with vic and tess: no actor is in either. */
  foreignDmId: string;
  foreignGroupId: string;
  actors: Record<ActorName, ActorState>;
}

let counter = 0;
/** A unique name for users, bots, guilds. */
export const unique = (prefix: string) => `${prefix}_${process.pid}_${++counter}`;

/** Sends one operation over HTTP; fails with the answer unless it succeeded. */
export async function must<T = any>(server: TestServer, query: string, variables: Record<string, unknown>, token: string | undefined): Promise<T> {
  const res = await server.gql(query, variables, token);
  if (res.errors || !res.data) throw new Error(`world building failed: ${query}\n${JSON.stringify(variables)}\n${JSON.stringify(res.errors)}`);
  return res.data as T;
}

export const Q = {
  register: `mutation($u: String!, $p: String!) { register(input: { username: $u, password: $p }) { token user { id } } }`,
  login: `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`,
  createGuild: `mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`,
  createBot: `mutation($u: String!) { createBot(input: { username: $u }) { token user { id username } } }`,
  resetBotToken: `mutation($b: ID!) { resetBotToken(botId: $b) { token } }`,
  createRole: `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id position } }`,
  createChannel: `mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`,
  createInvite: `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`,
  join: `mutation($c: String!) { joinGuild(code: $c) { id } }`,
  addRole: `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`,
  send: `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`,
  overwrite: `mutation($c: ID!, $k: OverwriteTarget!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) { setPermissionOverwrite(input: { channelId: $c, targetKind: $k, targetId: $t, allow: $a, deny: $d }) { targetId } }`,
  ban: `mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u, reason: "matrix" }) { createdAt } }`,
  timeout: `mutation($g: ID!, $u: ID!, $until: DateTime!) { timeoutMember(input: { guildId: $g, userId: $u, until: $until, reason: "matrix" }) { __typename } }`,
  block: `mutation($u: ID!) { blockUser(userId: $u) { type } }`,
  ask: `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`,
  accept: `mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`,
  settings: `mutation($p: DirectMessagePolicy!) { updateSettings(input: { allowDirectMessagesFrom: $p }) { allowDirectMessagesFrom } }`,
  openDm: `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`,
  removeRecipient: `mutation($c: ID!, $u: ID!) { removeGroupRecipient(input: { channelId: $c, userId: $u }) { id } }`,
  me: `{ me { id } }`,
};

/** A person, registered with the first password. */
export async function signUp(server: TestServer, prefix: string): Promise<Person> {
  const username = unique(prefix);
  const data = await must(server, Q.register, { u: username, p: PASSWORDS[0] }, undefined);
  return { id: data.register.user.id, username, token: data.register.token, password: PASSWORDS[0] };
}

/** Makes `a` and `b` friends. */
export async function befriend(server: TestServer, a: Person, b: Person): Promise<void> {
  await must(server, Q.ask, { u: b.id }, a.token);
  await must(server, Q.accept, { u: a.id }, b.token);
}

/** Builds a fresh world (about 150 requests, most in parallel). */
export async function buildWorld(server: TestServer): Promise<World> {
  const send = (token: string, c: string, t: string) => must(server, Q.send, { c, t }, token).then((d) => d.sendMessage.id as string);
  const personNames = PEOPLE;
  const [tess, lou, vic, ...people] = await Promise.all([signUp(server, "tess"), signUp(server, "lou"), signUp(server, "vic"), ...personNames.map((a) => signUp(server, a))]);
  const person = Object.fromEntries(personNames.map((a, i) => [a, people[i]!])) as Record<ActorName, Person>;
  const owner = person.owner;

  const guild = (await must(server, Q.createGuild, { n: "Matrix" }, owner.token)).createGuild;
  const guildId = guild.id as string;
  const generalId = guild.channels[0].id as string;
  // Roles are created just above @everyone: Admin first, so Mods lands below it.
  const adminRole = (await must(server, Q.createRole, { g: guildId, n: "Admin", p: ["ADMINISTRATOR"] }, owner.token)).createRole;
  const modRole = (await must(server, Q.createRole, { g: guildId, n: "Mods", p: ["KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"] }, owner.token)).createRole;
  const [channelId, inviteCode, bot, [secretCategoryId, lobbyId]] = await Promise.all([
    must(server, Q.createChannel, { g: guildId, n: "ops" }, owner.token).then((d) => d.createChannel.id as string),
    must(server, Q.createInvite, { g: guildId }, owner.token).then((d) => d.createInvite.code as string),
    must(server, Q.createBot, { u: unique("matrixbot") }, owner.token).then((d) => ({ id: d.createBot.user.id as string, username: d.createBot.user.username as string, token: d.createBot.token as string })),
    (async () => {
      const category = (await must(server, `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "Secret", kind: GUILD_CATEGORY }) { id } }`, { g: guildId }, owner.token)).createChannel.id as string;
      // Overwrites given (even none) are used as given: #lobby does not copy the category's.
      const lobby = (await must(server, `mutation($g: ID!, $p: ID!) { createChannel(input: { guildId: $g, name: "lobby", parentId: $p, permissionOverwrites: [] }) { id } }`, { g: guildId, p: category }, owner.token)).createChannel.id as string;
      await must(server, Q.overwrite, { c: category, k: "ROLE", t: guildId, a: [], d: ["VIEW_CHANNEL"] }, owner.token);
      return [category, lobby] as const;
    })(),
    must(server, Q.settings, { p: "EVERYONE" }, lou.token),
    must(server, Q.settings, { p: "EVERYONE" }, vic.token),
  ]);

  const joiners = [...personNames.filter((a) => a !== "owner" && a !== "outsider").map((a) => person[a].token), tess.token, bot.token];
  await Promise.all(joiners.map((token) => must(server, Q.join, { c: inviteCode }, token)));
  await Promise.all([
    must(server, Q.addRole, { g: guildId, u: person.admin.id, r: adminRole.id }, owner.token),
    must(server, Q.addRole, { g: guildId, u: person.moderator.id, r: modRole.id }, owner.token),
  ]);
  const ranks = (await must(server, `query($g: ID!) { guild(id: $g) { roles { id position } } }`, { g: guildId }, owner.token)).guild.roles as { id: string; position: number }[];
  const rank = (id: string) => ranks.find((r) => r.id === id)!.position;
  if (!(rank(adminRole.id) > rank(modRole.id) && rank(modRole.id) > 0)) throw new Error(`world building: Admin must rank above Mods, above @everyone: ${JSON.stringify(ranks)}`);

  // A message in #ops from every member, before anyone loses sight of it or the right to post.
  const writers = [...MEMBERS.filter((a) => a !== "bot"), "banned"] as ActorName[];
  const [tessMessageId, botMessageId, ...written] = await Promise.all([
    send(tess.token, channelId, "tess was here"),
    send(bot.token, channelId, "beep"),
    ...writers.map((a) => send(person[a].token, channelId, `${a} was here`)),
  ]);
  const ownMessage = Object.fromEntries(writers.map((a, i) => [a, written[i]!])) as Record<string, string>;
  ownMessage.bot = botMessageId!;
  const spares = await Promise.all([1, 2, 3, 4].map((i) => send(person.timedOut.token, channelId, `timedOut spare ${i}`)));
  const invite = (token: string) => must(server, Q.createInvite, { g: guildId }, token).then((d) => d.createInvite.code as string);
  const [tessInviteCode, bannedInviteCode, ...spareInvites] = await Promise.all([invite(tess.token), invite(person.banned.token), ...[1, 2].map(() => invite(person.timedOut.token))]);

  // Now the restrictions: hidden loses #ops, banned is banned, timedOut timed out, tess blocks blocked.
  await Promise.all([
    must(server, Q.overwrite, { c: channelId, k: "MEMBER", t: person.hidden.id, a: [], d: ["VIEW_CHANNEL"] }, owner.token),
    must(server, Q.overwrite, { c: channelId, k: "ROLE", t: modRole.id, a: [], d: [] }, owner.token),
    must(server, Q.ban, { g: guildId, u: person.banned.id }, owner.token),
    must(server, Q.timeout, { g: guildId, u: person.timedOut.id, until: new Date(Date.now() + 86_400_000).toISOString() }, owner.token),
    must(server, Q.block, { u: person.blocked.id }, tess.token),
  ]);

  // Friends: lou and vic with every person (and each other, and tess).
  const friendsOfLouAndVic = [...personNames.map((a) => person[a]), tess];
  await befriend(server, vic, lou);
  await Promise.all(friendsOfLouAndVic.map((p) => Promise.all([befriend(server, p, lou), befriend(server, p, vic)])));

  // DMs: everyone's own DM with lou; a group DM of lou's per person; lou's DM and group DM without any actor.
  const [foreignDmId, foreignGroupId, botDm, ...dms] = await Promise.all([
    must(server, Q.openDm, { u: [tess.id] }, lou.token).then((d) => d.openDirectMessage.id as string),
    must(server, Q.openDm, { u: [vic.id, tess.id] }, lou.token).then((d) => d.openDirectMessage.id as string),
    must(server, Q.openDm, { u: [lou.id] }, bot.token).then((d) => d.openDirectMessage.id as string),
    ...personNames.map((a) => must(server, Q.openDm, { u: [lou.id] }, person[a].token).then((d) => d.openDirectMessage.id as string)),
  ]);
  const groups = await Promise.all(personNames.map((a) => must(server, Q.openDm, { u: [person[a].id, vic.id] }, lou.token).then((d) => d.openDirectMessage.id as string)));

  const actors = {} as Record<ActorName, ActorState>;
  for (const name of ACTOR_NAMES) actors[name] = { name };
  personNames.forEach((a, i) => {
    actors[a] = { name: a, ...person[a], ownMessageId: ownMessage[a], ownDmId: dms[i], louGroupId: groups[i] };
  });
  Object.assign(actors.timedOut, { spareMessageIds: spares, spareInviteCodes: spareInvites });
  actors.banned.ownInviteCode = bannedInviteCode;
  const tessSessions = (await must(server, `{ sessions { id current } }`, {}, tess.token)).sessions as { id: string; current: boolean }[];
  actors.bot = { name: "bot", id: bot.id, username: bot.username, token: bot.token, ownMessageId: botMessageId, ownDmId: botDm };

  const world: World = {
    guildId,
    generalId,
    channelId,
    secretCategoryId,
    lobbyId,
    adminRoleId: adminRole.id,
    modRoleId: modRole.id,
    inviteCode,
    tess,
    lou,
    vic,
    tessMessageId: tessMessageId!,
    tessSessionId: tessSessions.find((s) => s.current)!.id,
    tessInviteCode: tessInviteCode!,
    foreignDmId,
    foreignGroupId,
    actors,
    secondAdminId: "",
  };
  world.secondAdminId = (await cloneActor(server, world, "admin")).id;
  return world;
}

/**
 * A new actor of one of the member kinds, set up as the world's is (joined, role given,
 * overwrite set, timed out, blocked by tess): for cells whose allowed outcome destroys the
 * actor's place in the guild (leaveGuild), and as targets that must stand where an actor stands
 * (kicking an admin).
 */
export async function cloneActor(server: TestServer, w: World, kind: ActorName): Promise<{ id: string; token: string }> {
  const owner = w.actors.owner.token!;
  let clone: { id: string; token: string };
  if (kind === "bot") {
    const bot = (await must(server, Q.createBot, { u: unique("clonebot") }, owner)).createBot;
    clone = { id: bot.user.id, token: bot.token };
  } else {
    clone = await signUp(server, `clone_${kind}`);
  }
  await must(server, Q.join, { c: w.inviteCode }, clone.token);
  switch (kind) {
    case "admin":
      await must(server, Q.addRole, { g: w.guildId, u: clone.id, r: w.adminRoleId }, owner);
      break;
    case "moderator":
      await must(server, Q.addRole, { g: w.guildId, u: clone.id, r: w.modRoleId }, owner);
      break;
    case "hidden":
      await must(server, Q.overwrite, { c: w.channelId, k: "MEMBER", t: clone.id, a: [], d: ["VIEW_CHANNEL"] }, owner);
      break;
    case "timedOut":
      await must(server, Q.timeout, { g: w.guildId, u: clone.id, until: new Date(Date.now() + 86_400_000).toISOString() }, owner);
      break;
    case "blocked":
      await must(server, Q.block, { u: clone.id }, w.tess.token);
      break;
    case "member":
    case "bot":
      break;
    default:
      throw new Error(`cannot clone ${kind}: not a member kind`);
  }
  return clone;
}

/** A fresh plain member of the guild (a throwaway target to kick, ban, give roles to). */
export async function freshMember(server: TestServer, w: World): Promise<Person> {
  const p = await signUp(server, "target");
  await must(server, Q.join, { c: w.inviteCode }, p.token);
  return p;
}

/**
 * Makes sure an actor's token still works (an operation such as logout, revokeOtherSessions or
 * resetBotToken may have revoked it): signs a person in again, or resets the bot's token.
 * Returns true if the token changed.
 */
export async function repairToken(server: TestServer, w: World, name: ActorName): Promise<boolean> {
  const actor = w.actors[name];
  if (!actor.token) return false;
  const res = await server.gql(Q.me, {}, actor.token);
  if (res.data?.me?.id === actor.id) return false;
  if (name === "bot") {
    actor.token = (await must(server, Q.resetBotToken, { b: actor.id }, w.actors.owner.token)).resetBotToken.token;
  } else {
    actor.token = (await must(server, Q.login, { u: actor.username, p: actor.password }, undefined)).login.token;
  }
  return true;
}

/** A graphql-ws client authenticated with `token` (anonymous without one). */
export function socket(server: TestServer, token: string | undefined): Client {
  return createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    onNonLazyError: () => {},
  });
}

