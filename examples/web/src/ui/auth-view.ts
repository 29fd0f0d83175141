import { signIn, signUp, type ApiOptions, type Session } from "../api/index.js";
import { h } from "./dom.js";

/**
 * The sign-in screen: one form, two buttons (sign in, or create the account). Calls `onSession`
 * with the new session; shows the server's message when it refuses (a taken name, a weak
 * password, a wrong password).
 */
export function renderAuthView(root: HTMLElement, options: ApiOptions, onSession: (session: Session) => void): void {
  const username = h("input", { type: "text", autocomplete: "username", required: true, minLength: 2, maxLength: 32, data: { testid: "username" } });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true, minLength: 10, data: { testid: "password" } });
  const error = h("p", { className: "error", data: { testid: "auth-error" }, attrs: { role: "alert" } });
  const submit = (action: typeof signIn) => async (event: Event) => {
    event.preventDefault();
    const form = (event.target as HTMLElement).closest("form")!;
    if (!form.reportValidity()) return;
    error.textContent = "";
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    try {
      onSession(await action(options, username.value.trim(), password.value));
    } catch (caught) {
      error.textContent = (caught as Error).message;
    } finally {
      for (const button of form.querySelectorAll("button")) button.disabled = false;
    }
  };
  root.replaceChildren(
    h(
      "main",
      { className: "auth" },
      h(
        "form",
        { className: "auth-card", on: { submit: submit(signIn) } },
        h("h1", {}, "Concord"),
        h("p", { className: "muted" }, "Sign in, or pick a name and a passphrase (10 characters or more) to create an account."),
        h("label", {}, "Username", username),
        h("label", {}, "Password", password),
        error,
        h(
          "div",
          { className: "row" },
          h("button", { type: "submit", data: { testid: "sign-in" } }, "Sign in"),
          h("button", { type: "button", className: "secondary", data: { testid: "sign-up" }, on: { click: submit(signUp) } }, "Create account"),
        ),
      ),
    ),
  );
  username.focus();
}
