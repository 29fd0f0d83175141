import type { Api, ChannelEvent, Message, UserRef } from "../api/index.js";
import { compareIds, formatTime, h } from "./dom.js";

/** Older history is fetched when the list is scrolled to within this many pixels of its top. */
const LOAD_OLDER_MARGIN_PX = 200;
/** startTyping at most this often while the person types (the server absorbs calls within 5 s anyway). */
const TYPING_THROTTLE_MS = 4_000;

/**
 * One open channel: its history (newest page first, older pages prepended as the list is
 * scrolled up, keeping what is on screen in place), live messages, edits and deletions merged
 * by id (so a page and a live event may arrive in any order), who is typing, and the composer.
 * Its owner feeds it the channel's live events through {@link MessageView.handle}.
 */
export class MessageView {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly typingLine: HTMLElement;
  private readonly status: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly messages = new Map<string, { message: Message; row: HTMLElement }>();
  private readonly typists = new Map<string, { user: UserRef; timer: ReturnType<typeof setTimeout> }>();
  private hasOlder = true;
  private loadingOlder = false;
  private lastTypingAt = 0;
  private loaded = false;
  private streamLive = false;
  private disposed = false;

  constructor(
    private readonly api: Api,
    private readonly me: UserRef,
    readonly channelId: string,
    channelName: string,
    /** Called with the newest message id whenever the person has seen it (to acknowledge it). */
    private readonly onSeen: (messageId: string) => void,
  ) {
    this.list = h("ol", { className: "messages", data: { testid: "messages", live: false, hasOlder: true }, on: { scroll: () => this.maybeLoadOlder() } });
    this.typingLine = h("div", { className: "typing", data: { testid: "typing" }, attrs: { "aria-live": "polite" } });
    this.status = h("div", { className: "status error", data: { testid: "chat-error" }, attrs: { role: "alert" } });
    this.input = h("textarea", {
      rows: 1,
      placeholder: `Message #${channelName}`,
      data: { testid: "composer" },
      on: { keydown: (event) => this.onKey(event), input: () => this.onInput() },
    });
    this.element = h(
      "section",
      { className: "chat", data: { channelId } },
      h("header", { className: "chat-header" }, h("h2", {}, `# ${channelName}`)),
      this.list,
      this.typingLine,
      this.status,
      h("form", { className: "composer", on: { submit: (event) => (event.preventDefault(), void this.send()) } }, this.input, h("button", { type: "submit", data: { testid: "send" } }, "Send")),
    );
    void this.loadNewest();
  }

  /** The stream of this channel is live (its `Subscribed` arrived). */
  setLive(): void {
    this.streamLive = true;
    this.updateLiveMarker();
  }

  /** Focuses the composer. */
  focus(): void {
    this.input.focus();
  }

  /** Applies one live event of this channel. */
  handle(event: ChannelEvent): void {
    switch (event.__typename) {
      case "MessageCreated":
        this.clearTypist(event.message.author?.id);
        this.upsert(event.message, true);
        break;
      case "MessageUpdated":
        if (this.messages.has(event.message.id)) this.upsert(event.message, false);
        break;
      case "MessageDeleted":
        this.remove(event.messageId);
        break;
      case "TypingStarted":
        if (event.user.id !== this.me.id) this.showTypist(event.user, new Date(event.expiresAt).getTime() - Date.now());
        break;
      case "ResyncRequired":
        // Events were lost: the newest page again, merged by id.
        void this.loadNewest();
        break;
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const { timer } of this.typists.values()) clearTimeout(timer);
  }

  private updateLiveMarker(): void {
    this.list.dataset.live = String(this.loaded && this.streamLive);
  }

  private async loadNewest(): Promise<void> {
    try {
      const page = await this.api.messages(this.channelId);
      if (this.disposed) return;
      if (!this.loaded) this.setHasOlder(page.hasOlder);
      for (const message of page.messages) this.upsert(message, false);
      this.loaded = true;
      this.updateLiveMarker();
      this.scrollToBottom();
      this.seeNewest();
      this.maybeLoadOlder();
    } catch (error) {
      this.showError(error);
    }
  }

  private maybeLoadOlder(): void {
    if (!this.loaded || !this.hasOlder || this.loadingOlder || this.list.scrollTop > LOAD_OLDER_MARGIN_PX) return;
    const oldest = this.oldestId();
    if (oldest === undefined) return;
    this.loadingOlder = true;
    this.list.dataset.loadingOlder = "true";
    void this.api
      .messages(this.channelId, oldest)
      .then((page) => {
        if (this.disposed) return;
        // Keep the rows on screen where they are while rows appear above them.
        const fromBottom = this.list.scrollHeight - this.list.scrollTop;
        for (const message of page.messages) this.upsert(message, false);
        this.list.scrollTop = this.list.scrollHeight - fromBottom;
        this.setHasOlder(page.hasOlder);
      })
      .catch((error: unknown) => this.showError(error))
      .finally(() => {
        this.loadingOlder = false;
        this.list.dataset.loadingOlder = "false";
        // Still near the top (a short page, or a fast scroll): keep going.
        if (!this.disposed) requestAnimationFrame(() => this.maybeLoadOlder());
      });
  }

  private setHasOlder(hasOlder: boolean): void {
    this.hasOlder = hasOlder;
    this.list.dataset.hasOlder = String(hasOlder);
  }

  private oldestId(): string | undefined {
    let oldest: string | undefined;
    for (const id of this.messages.keys()) if (oldest === undefined || compareIds(id, oldest) < 0) oldest = id;
    return oldest;
  }

  private atBottom(): boolean {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
  }

  private scrollToBottom(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** Inserts or replaces a message in id order; `live` follows the bottom if the reader was there. */
  private upsert(message: Message, live: boolean): void {
    const follow = live && this.atBottom();
    const existing = this.messages.get(message.id);
    const row = this.renderRow(message);
    if (existing) {
      existing.row.replaceWith(row);
    } else {
      const next = [...this.messages.keys()].filter((id) => compareIds(id, message.id) > 0).sort(compareIds)[0];
      this.list.insertBefore(row, next === undefined ? null : this.messages.get(next)!.row);
    }
    this.messages.set(message.id, { message, row });
    if (follow) {
      this.scrollToBottom();
      this.seeNewest();
    }
  }

  private remove(messageId: string): void {
    this.messages.get(messageId)?.row.remove();
    this.messages.delete(messageId);
  }

  private seeNewest(): void {
    let newest: string | undefined;
    for (const id of this.messages.keys()) if (newest === undefined || compareIds(id, newest) > 0) newest = id;
    if (newest !== undefined && document.visibilityState === "visible") this.onSeen(newest);
  }

  private renderRow(message: Message): HTMLElement {
    const mine = message.author?.id === this.me.id;
    const content = h("div", { className: "content", data: { testid: "message-content" } }, message.content);
    const actions = mine
      ? h(
          "div",
          { className: "actions" },
          h("button", { type: "button", className: "link", data: { testid: "edit" }, on: { click: () => this.startEdit(message, content) } }, "Edit"),
          h("button", { type: "button", className: "link danger", data: { testid: "delete" }, on: { click: () => void this.api.deleteMessage(this.channelId, message.id).catch((e: unknown) => this.showError(e)) } }, "Delete"),
        )
      : null;
    return h(
      "li",
      { className: `message${mine ? " mine" : ""}`, data: { testid: "message", messageId: message.id, author: message.author?.username ?? "" } },
      h(
        "div",
        { className: "meta" },
        h("span", { className: "author" }, message.author?.username ?? "deleted user"),
        h("time", { dateTime: message.createdAt, title: new Date(message.createdAt).toLocaleString() }, formatTime(message.createdAt)),
        message.editedAt ? h("span", { className: "edited muted", data: { testid: "edited" } }, "(edited)") : null,
        actions,
      ),
      content,
    );
  }

  private startEdit(message: Message, content: HTMLElement): void {
    const field = h("input", { type: "text", value: message.content, className: "edit-field", data: { testid: "edit-input" } });
    const finish = () => field.replaceWith(content);
    field.addEventListener("keydown", (event) => {
      if (event.key === "Escape") finish();
      if (event.key !== "Enter") return;
      event.preventDefault();
      const text = field.value.trim();
      if (!text || text === message.content) return finish();
      void this.api
        .editMessage(this.channelId, message.id, text)
        .then((edited) => this.upsert(edited, false))
        .catch((error: unknown) => (this.showError(error), finish()));
    });
    content.replaceWith(field);
    field.focus();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void this.send();
    }
  }

  private onInput(): void {
    if (!this.input.value.trim() || Date.now() - this.lastTypingAt < TYPING_THROTTLE_MS) return;
    this.lastTypingAt = Date.now();
    void this.api.startTyping(this.channelId).catch(() => {});
  }

  private async send(): Promise<void> {
    const content = this.input.value.trim();
    if (!content) return;
    this.input.value = "";
    this.status.textContent = "";
    this.lastTypingAt = 0;
    try {
      const message = await this.api.sendMessage(this.channelId, content);
      this.upsert(message, true);
      this.scrollToBottom();
    } catch (error) {
      // Give the text back so nothing typed is lost.
      if (!this.input.value) this.input.value = content;
      this.showError(error);
    }
  }

  private showTypist(user: UserRef, lifetimeMs: number): void {
    this.clearTypist(user.id);
    const timer = setTimeout(() => this.clearTypist(user.id), Math.max(0, lifetimeMs));
    this.typists.set(user.id, { user, timer });
    this.renderTyping();
  }

  private clearTypist(userId: string | undefined): void {
    const typist = userId === undefined ? undefined : this.typists.get(userId);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.typists.delete(userId!);
    this.renderTyping();
  }

  private renderTyping(): void {
    const names = [...this.typists.values()].map(({ user }) => user.username);
    this.typingLine.textContent = names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`;
  }

  private showError(error: unknown): void {
    this.status.textContent = (error as Error).message;
  }
}
