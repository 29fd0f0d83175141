import type { User } from "./assertions.js";
import type { TestServer } from "./server.js";

/** Makes `user` friends with each of `others` (a request, then its acceptance), over HTTP. */
export async function befriend(server: TestServer, user: User, ...others: User[]): Promise<void> {
  for (const other of others) {
    await server.ok(`mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`, { u: other.id }, user.token);
    await server.ok(`mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`, { u: user.id }, other.token);
  }
}

/** A guild owned by `owner` that each of `members` joined; its id and first channel. */
export async function guildOf(server: TestServer, owner: User, members: User[] = [], name = "People"): Promise<{ guildId: string; channelId: string }> {
  const created = (await server.ok(`mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`, { n: name }, owner.token)).createGuild;
  if (members.length > 0) {
    const code = (await server.ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: created.id }, owner.token)).createInvite.code;
    for (const member of members) await server.ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, member.token);
  }
  return { guildId: created.id, channelId: created.channels[0].id };
}
