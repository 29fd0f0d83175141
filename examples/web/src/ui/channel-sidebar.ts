import type { ChannelInfo, GuildDetails, Member } from "../api/index.js";
import { h, replaceChildren } from "./dom.js";
import { badgeText } from "./guild-rail.js";

/**
 * The guild's column: its name, an "Invite" button that makes a code to share, the text
 * channels with unread badges, and the members with presence dots.
 */
export function renderChannelSidebar(
  sidebar: HTMLElement,
  state: { guild: GuildDetails; selectedChannelId: string | null; unread: Map<string, number>; live: ReadonlySet<string>; inviteCode: string | null },
  actions: { selectChannel: (channel: ChannelInfo) => void; createInvite: () => void },
): void {
  const textChannels = state.guild.channels.filter((channel) => channel.kind === "GUILD_TEXT");
  const members = [...state.guild.members].sort(byPresenceThenName);
  replaceChildren(
    sidebar,
    h("header", { className: "guild-header" }, h("h2", { data: { testid: "guild-name" } }, state.guild.name)),
    h(
      "div",
      { className: "invite" },
      h("button", { type: "button", className: "secondary", data: { testid: "create-invite" }, on: { click: actions.createInvite } }, "Invite people"),
      state.inviteCode
        ? h("input", { type: "text", readOnly: true, value: state.inviteCode, className: "invite-code", data: { testid: "invite-code" }, attrs: { "aria-label": "Invite code", title: "Share this code" } })
        : null,
    ),
    h("h3", {}, "Text channels"),
    h(
      "ul",
      { className: "channels" },
      ...textChannels.map((channel) => {
        const unread = state.unread.get(channel.id) ?? 0;
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              className: `channel${channel.id === state.selectedChannelId ? " selected" : ""}${unread > 0 ? " unread" : ""}`,
              data: { testid: "channel", channelId: channel.id, name: channel.name ?? "", live: state.live.has(channel.id) },
              on: { click: () => actions.selectChannel(channel) },
            },
            h("span", {}, `# ${channel.name ?? ""}`),
            unread > 0 ? h("span", { className: "badge", data: { testid: "channel-unread" } }, badgeText(unread)) : null,
          ),
        );
      }),
    ),
    h("h3", {}, `Members — ${members.length}`),
    h(
      "ul",
      { className: "members" },
      ...members.map((member) =>
        h(
          "li",
          { className: "member", data: { testid: "member", userId: member.user?.id ?? "", presence: member.user?.presence ?? "OFFLINE" } },
          h("span", { className: `dot ${(member.user?.presence ?? "OFFLINE").toLowerCase()}`, title: member.user?.presence ?? "OFFLINE" }),
          member.user?.username ?? "deleted user",
        ),
      ),
    ),
  );
}

const ONLINE_FIRST = ["ONLINE", "IDLE", "DND", "INVISIBLE", "OFFLINE"];

function byPresenceThenName(a: Member, b: Member): number {
  const rank = (member: Member) => ONLINE_FIRST.indexOf(member.user?.presence ?? "OFFLINE");
  return rank(a) - rank(b) || (a.user?.username ?? "").localeCompare(b.user?.username ?? "");
}
