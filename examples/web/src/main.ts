import { ApiError, connect, type ApiOptions, type Session } from "./api/index.js";
import { renderAuthView } from "./ui/auth-view.js";
import { ChatApp } from "./ui/chat-app.js";
import "./style.css";

/** The session survives a reload; each browser profile (or Playwright context) has its own. */
const STORAGE_KEY = "concord.session";

/** The API of the server that served this page (the Vite dev server proxies /graphql). */
const options: ApiOptions = {
  httpUrl: new URL("/graphql", location.href).toString(),
  wsUrl: new URL("/graphql", location.href).toString().replace(/^http/, "ws"),
};

const root = document.getElementById("root")!;

function signedOut(): void {
  localStorage.removeItem(STORAGE_KEY);
  renderAuthView(root, options, (session) => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    void signedIn(session);
  });
}

async function signedIn(session: Session): Promise<void> {
  let app: ChatApp | undefined;
  let ended = false;
  // Signing out and the server closing the socket (4401) may both end the session: once only,
  // or a second sign-in form would replace the first while someone types in it.
  const end = () => {
    if (ended) return;
    ended = true;
    app?.dispose();
    api.close();
    signedOut();
  };
  const api = connect(options, session.token, {
    onSocket: (state) => app?.onSocket(state),
    onSessionEnded: end,
  });
  app = new ChatApp(root, api, session.user, () => void api.signOut().finally(end));
  try {
    await app.start();
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") end();
    else throw error;
  }
}

const saved = localStorage.getItem(STORAGE_KEY);
if (saved) void signedIn(JSON.parse(saved) as Session);
else signedOut();
