import { h, singleFieldForm } from "./dom.js";

/** The panel behind "+": create a guild, or join one with an invite code. */
export function renderHomePanel(actions: { createGuild: (name: string) => Promise<void>; joinGuild: (code: string) => Promise<void> }, error: HTMLElement): HTMLElement {
  return h(
    "section",
    { className: "home", data: { testid: "home" } },
    h("h2", {}, "Create a guild"),
    h("p", { className: "muted" }, "A guild comes with a #general channel. Invite people from its column."),
    singleFieldForm({ testid: "create-guild", label: "Guild name", placeholder: "Analytical Engines", button: "Create", onSubmit: actions.createGuild }),
    h("h2", {}, "Join a guild"),
    h("p", { className: "muted" }, "Paste an invite code someone shared with you."),
    singleFieldForm({ testid: "join-guild", label: "Invite code", placeholder: "aB3dE5gH", button: "Join", onSubmit: actions.joinGuild }),
    error,
  );
}
