import type { GuildSummary } from "../api/index.js";
import { h, replaceChildren } from "./dom.js";

/** A count for a badge: "99+" past 99 (the server counts exactly up to 100). */
export const badgeText = (count: number) => (count > 99 ? "99+" : String(count));

/**
 * The left rail: one button per guild (its initials, an unread badge, the selected one marked)
 * and a "+" that opens the create-or-join panel.
 */
export function renderGuildRail(
  rail: HTMLElement,
  state: { guilds: GuildSummary[]; selectedGuildId: string | null; unread: (guildId: string) => number },
  actions: { selectGuild: (guildId: string) => void; openHome: () => void },
): void {
  const initials = (name: string) =>
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((word) => [...word][0]!.toUpperCase())
      .join("");
  replaceChildren(
    rail,
    ...state.guilds.map((guild) => {
      const unread = state.unread(guild.id);
      return h(
        "button",
        {
          type: "button",
          className: `guild${guild.id === state.selectedGuildId ? " selected" : ""}`,
          title: guild.name,
          data: { testid: "guild", guildId: guild.id, name: guild.name },
          attrs: { "aria-label": guild.name },
          on: { click: () => actions.selectGuild(guild.id) },
        },
        initials(guild.name),
        unread > 0 ? h("span", { className: "badge", data: { testid: "guild-unread" } }, badgeText(unread)) : null,
      );
    }),
    h("button", { type: "button", className: `guild add${state.selectedGuildId === null ? " selected" : ""}`, title: "Create or join a guild", data: { testid: "open-home" }, on: { click: actions.openHome } }, "+"),
  );
}
