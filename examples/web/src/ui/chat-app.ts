import type { Api, ChannelEvent, ChannelInfo, GuildDetails, GuildEvent, GuildSummary, UserEvent, UserRef } from "../api/index.js";
import { renderChannelSidebar } from "./channel-sidebar.js";
import { h, replaceChildren } from "./dom.js";
import { renderGuildRail } from "./guild-rail.js";
import { renderHomePanel } from "./home-panel.js";
import { MessageView } from "./message-view.js";
import { channelPath, parseRoute } from "./route.js";

/** Live streams kept open for the selected guild's channels (each is one subscription on the socket). */
const MAX_CHANNEL_STREAMS = 50;
/** Guilds whose unread counts are fetched at start-up (the rest show theirs once opened). */
const MAX_GUILD_BADGES = 20;
/** Acknowledgements of a channel are sent at most this often. */
const ACK_DELAY_MS = 500;

/**
 * The signed-in screen and its state: guilds (rail), the selected guild's channels and members
 * (sidebar), the open channel (MessageView), unread counts, and the live streams that keep them
 * current: `userEvents` (guilds joined and left, reads on other devices), the selected guild's
 * `guildEvents` (presence, members, channels) and a `channelEvents` per text channel (messages
 * in the open one, unread badges for the others).
 */
export class ChatApp {
  private guilds: GuildSummary[] = [];
  private guild: GuildDetails | null = null;
  private view: MessageView | null = null;
  private inviteCode: string | null = null;
  /** guild id -> channel id -> unread messages. */
  private readonly unread = new Map<string, Map<string, number>>();
  private readonly liveChannels = new Set<string>();
  private readonly pendingAcks = new Map<string, { messageId: string; timer: ReturnType<typeof setTimeout> }>();
  private stopGuildEvents: () => void = () => {};
  /** channel id -> stop function of its live stream (the selected guild's text channels). */
  private readonly channelStreams = new Map<string, () => void>();
  private readonly rail = h("nav", { className: "rail", attrs: { "aria-label": "Guilds" } });
  private readonly sidebar = h("aside", { className: "sidebar" });
  private readonly main = h("main", { className: "main" });
  private readonly connection = h("span", { className: "connection", data: { testid: "connection", state: "connecting" } }, "connecting…");
  private readonly error = h("p", { className: "error", data: { testid: "app-error" }, attrs: { role: "alert" } });
  private stopUserEvents: () => void = () => {};

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    private readonly me: UserRef,
    private readonly onSignOut: () => void,
  ) {}

  /** Renders the screen, loads the guilds, opens the route's guild and channel. */
  async start(): Promise<void> {
    const userPanel = h(
      "div",
      { className: "user-panel" },
      h("span", { className: "dot online" }),
      h("span", { className: "me", data: { testid: "me" } }, this.me.username),
      this.connection,
      h("button", { type: "button", className: "link", data: { testid: "sign-out" }, on: { click: this.onSignOut } }, "Sign out"),
    );
    this.root.replaceChildren(h("div", { className: "app" }, this.rail, h("div", { className: "column" }, this.sidebar, userPanel), this.main));
    this.stopUserEvents = this.api.userEvents(
      (event) => this.onUserEvent(event),
      (error) => this.showError(error),
    );
    window.addEventListener("popstate", () => void this.openRoute());
    await this.loadGuilds();
    await this.openRoute();
  }

  /**
   * The socket's state, shown in the user panel. Nothing is refetched after a reconnect: the
   * live streams resume from their last event, and a ResyncRequired says when that was too old.
   */
  onSocket(state: "connected" | "closed"): void {
    this.connection.dataset.state = state === "closed" ? "reconnecting" : "connected";
    this.connection.textContent = state === "closed" ? "reconnecting…" : "";
  }

  dispose(): void {
    this.stopUserEvents();
    this.closeGuild();
  }

  private async openRoute(): Promise<void> {
    const route = parseRoute(location.pathname);
    const guildId = route.guildId && this.guilds.some((g) => g.id === route.guildId) ? route.guildId : (this.guilds[0]?.id ?? null);
    if (guildId === null) return this.openHome();
    await this.selectGuild(guildId, route.channelId);
  }

  private openHome(): void {
    this.closeGuild();
    history.replaceState(null, "", channelPath(null, null));
    replaceChildren(this.sidebar, h("header", { className: "guild-header" }, h("h2", {}, "Home")));
    replaceChildren(
      this.main,
      renderHomePanel(
        {
          createGuild: (name) => this.guarded(async () => this.enterGuild(await this.api.createGuild(name))),
          joinGuild: (code) => this.guarded(async () => this.enterGuild(await this.api.joinGuild(code))),
        },
        this.error,
      ),
    );
    this.renderRail();
  }

  private async enterGuild(guild: GuildSummary): Promise<void> {
    if (!this.guilds.some((g) => g.id === guild.id)) this.guilds.push(guild);
    await this.selectGuild(guild.id, null);
  }

  private closeGuild(): void {
    this.stopGuildEvents();
    this.stopGuildEvents = () => {};
    for (const stop of this.channelStreams.values()) stop();
    this.channelStreams.clear();
    this.liveChannels.clear();
    this.view?.dispose();
    this.view = null;
    this.guild = null;
    this.inviteCode = null;
  }

  private async selectGuild(guildId: string, channelId: string | null): Promise<void> {
    if (this.guild?.id !== guildId) {
      this.closeGuild();
      const guild = await this.guarded(() => this.api.guild(guildId));
      if (!guild) return;
      this.guild = guild;
      this.unread.set(guild.id, new Map(guild.channels.map((c) => [c.id, c.readState.unreadCount])));
      this.openGuildStreams(guild);
    }
    const channels = this.guild!.channels.filter((c) => c.kind === "GUILD_TEXT");
    const channel = channels.find((c) => c.id === channelId) ?? channels[0];
    if (channel) this.selectChannel(channel);
    else replaceChildren(this.main, h("p", { className: "muted empty" }, "No text channel you can see here."));
    this.render();
  }

  private openGuildStreams(guild: GuildDetails): void {
    this.stopGuildEvents = this.api.guildEvents(
      guild.id,
      (event) => this.onGuildEvent(guild.id, event),
      (error) => this.showError(error),
    );
    this.syncChannelStreams(guild);
  }

  /** One live stream per text channel of the guild: new channels get one, deleted ones lose theirs. */
  private syncChannelStreams(guild: GuildDetails): void {
    const wanted = new Set(
      guild.channels
        .filter((c) => c.kind === "GUILD_TEXT")
        .slice(0, MAX_CHANNEL_STREAMS)
        .map((c) => c.id),
    );
    for (const [channelId, stop] of this.channelStreams) {
      if (wanted.has(channelId)) continue;
      stop();
      this.channelStreams.delete(channelId);
      this.liveChannels.delete(channelId);
    }
    for (const channelId of wanted) {
      if (this.channelStreams.has(channelId)) continue;
      this.channelStreams.set(
        channelId,
        this.api.channelEvents(
          channelId,
          (event) => this.onChannelEvent(guild.id, channelId, event),
          (error) => this.showError(error),
        ),
      );
    }
  }

  private selectChannel(channel: ChannelInfo): void {
    if (this.view?.channelId !== channel.id) {
      this.view?.dispose();
      this.view = new MessageView(this.api, this.me, channel.id, channel.name ?? "", (messageId) => this.acknowledge(channel.id, messageId));
      if (this.liveChannels.has(channel.id)) this.view.setLive();
      replaceChildren(this.main, this.view.element);
      this.view.focus();
    }
    const path = channelPath(this.guild!.id, channel.id);
    if (location.pathname !== path) history.pushState(null, "", path);
    this.render();
  }

  private onChannelEvent(guildId: string, channelId: string, event: ChannelEvent): void {
    if (this.guild?.id !== guildId) return;
    const open = this.view?.channelId === channelId ? this.view : null;
    if (event.__typename === "Subscribed") {
      this.liveChannels.add(channelId);
      open?.setLive();
      this.render();
      return;
    }
    if (open) return open.handle(event);
    if (event.__typename === "MessageCreated" && event.message.author?.id !== this.me.id) {
      const counts = this.unread.get(guildId)!;
      counts.set(channelId, (counts.get(channelId) ?? 0) + 1);
      this.render();
    }
  }

  private onGuildEvent(guildId: string, event: GuildEvent): void {
    const guild = this.guild;
    if (guild?.id !== guildId) return;
    switch (event.__typename) {
      case "PresenceUpdated": {
        // A Presence's id is its user's id.
        const member = guild.members.find((m) => m.user?.id === event.presence.id);
        if (member?.user) member.user.presence = event.presence.status;
        break;
      }
      case "MemberJoined":
        if (!guild.members.some((m) => m.user?.id === event.user.id)) guild.members.push({ __typename: "GuildMember", id: `${guild.id}:${event.user.id}`, user: event.user });
        break;
      case "MemberLeft":
        guild.members = guild.members.filter((m) => m.user?.id !== event.userId);
        break;
      case "ChannelCreated":
      case "ChannelUpdated":
      case "ChannelDeleted":
      case "ResyncRequired":
        void this.refreshGuild(guildId);
        return;
    }
    this.render();
  }

  private onUserEvent(event: UserEvent): void {
    switch (event.__typename) {
      case "GuildJoined":
        if (!this.guilds.some((g) => g.id === event.guild.id)) this.guilds.push(event.guild);
        void this.loadGuildUnread(event.guild.id);
        break;
      case "GuildLeft":
        this.guilds = this.guilds.filter((g) => g.id !== event.guildId);
        if (this.guild?.id === event.guildId) void this.openRoute();
        break;
      case "ReadStateUpdated":
        for (const counts of this.unread.values()) if (counts.has(event.channelId)) counts.set(event.channelId, event.readState.unreadCount);
        break;
      case "ResyncRequired":
        // Events were lost (the socket was away too long): the guild list and badges again.
        void this.guarded(async () => {
          await this.loadGuilds();
          if (this.guild && !this.guilds.some((g) => g.id === this.guild!.id)) await this.openRoute();
          this.render();
        });
        return;
    }
    this.render();
  }

  /** Loads the guild list, and the unread badges of the first ones. */
  private async loadGuilds(): Promise<void> {
    this.guilds = (await this.api.me()).guilds;
    void Promise.all(this.guilds.slice(0, MAX_GUILD_BADGES).map((guild) => this.loadGuildUnread(guild.id)));
  }

  /** Reloads the selected guild's channels and members (after a channel change or a resync). */
  private async refreshGuild(guildId: string): Promise<void> {
    const fresh = await this.guarded(() => this.api.guild(guildId));
    if (!fresh || this.guild?.id !== guildId) return;
    this.guild = fresh;
    const counts = this.unread.get(guildId)!;
    for (const channel of fresh.channels) if (!counts.has(channel.id)) counts.set(channel.id, channel.readState.unreadCount);
    this.syncChannelStreams(fresh);
    this.render();
  }

  private async loadGuildUnread(guildId: string): Promise<void> {
    const counts = await this.api.guildUnread(guildId).catch(() => null);
    if (counts && !(this.guild?.id === guildId)) this.unread.set(guildId, counts);
    this.render();
  }

  /** Marks a channel read up to `messageId`, batched per channel. */
  private acknowledge(channelId: string, messageId: string): void {
    const counts = this.guild ? this.unread.get(this.guild.id) : undefined;
    if (counts?.get(channelId)) {
      counts.set(channelId, 0);
      this.render();
    }
    const pending = this.pendingAcks.get(channelId);
    if (pending) {
      pending.messageId = messageId;
      return;
    }
    const timer = setTimeout(() => {
      const latest = this.pendingAcks.get(channelId)!.messageId;
      this.pendingAcks.delete(channelId);
      void this.api.ackMessage(channelId, latest).catch(() => {});
    }, ACK_DELAY_MS);
    this.pendingAcks.set(channelId, { messageId, timer });
  }

  private render(): void {
    this.renderRail();
    if (!this.guild) return;
    renderChannelSidebar(
      this.sidebar,
      { guild: this.guild, selectedChannelId: this.view?.channelId ?? null, unread: this.unread.get(this.guild.id) ?? new Map(), live: this.liveChannels, inviteCode: this.inviteCode },
      {
        selectChannel: (channel) => this.selectChannel(channel),
        createInvite: () =>
          void this.guarded(async () => {
            this.inviteCode = await this.api.createInvite(this.guild!.id);
            this.render();
          }),
      },
    );
  }

  private renderRail(): void {
    renderGuildRail(
      this.rail,
      {
        guilds: this.guilds,
        selectedGuildId: this.guild?.id ?? null,
        unread: (guildId) => [...(this.unread.get(guildId)?.values() ?? [])].reduce((sum, n) => sum + n, 0),
      },
      { selectGuild: (guildId) => void this.selectGuild(guildId, null), openHome: () => this.openHome() },
    );
  }

  /** Runs an action, showing its error (the server's message) instead of throwing. */
  private async guarded<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.error.textContent = "";
    try {
      return await action();
    } catch (error) {
      this.showError(error);
      return undefined;
    }
  }

  private showError(error: unknown): void {
    this.error.textContent = (error as Error).message;
    if (!this.error.isConnected) this.main.append(this.error);
  }
}
