/** The shapes the data layer hands to the UI (a subset of schema.graphql, by hand for now). */

/** Where the API is: HTTP for queries and mutations, WebSocket for subscriptions. */
export interface ApiOptions {
  httpUrl: string;
  wsUrl: string;
}

export interface UserRef {
  id: string;
  username: string;
}

export interface Session {
  token: string;
  user: UserRef;
}

export type PresenceStatus = "ONLINE" | "IDLE" | "DND" | "INVISIBLE" | "OFFLINE";

export interface GuildSummary {
  id: string;
  name: string;
}

export interface ReadState {
  id: string;
  unreadCount: number;
  mentionCount: number;
}

export interface ChannelInfo {
  id: string;
  name: string | null;
  kind: "GUILD_TEXT" | "GUILD_CATEGORY" | "DM" | "GROUP_DM";
  position: number;
  readState: ReadState;
}

export interface Member {
  id: string;
  user: (UserRef & { presence: PresenceStatus }) | null;
}

export interface GuildDetails extends GuildSummary {
  channels: ChannelInfo[];
  members: Member[];
}

export interface Message {
  id: string;
  content: string;
  createdAt: string;
  editedAt: string | null;
  author: UserRef | null;
}

/** One page of history, oldest first; `hasOlder` when scrolling further back finds more. */
export interface MessagePage {
  messages: Message[];
  hasOlder: boolean;
}

export type ChannelEvent =
  | { __typename: "Subscribed" }
  | { __typename: "MessageCreated" | "MessageUpdated"; message: Message }
  | { __typename: "MessageDeleted"; channelId: string; messageId: string }
  | { __typename: "TypingStarted"; channelId: string; expiresAt: string; user: UserRef }
  | { __typename: "ResyncRequired"; reason: string }
  | { __typename: "EventsMissed" };

export type GuildEvent =
  | { __typename: "Subscribed" }
  | { __typename: "PresenceUpdated"; status: PresenceStatus; user: UserRef }
  | { __typename: "MemberJoined"; user: UserRef & { presence: PresenceStatus } }
  | { __typename: "MemberLeft"; userId: string }
  | { __typename: "ChannelCreated"; channel: { id: string } }
  | { __typename: "ChannelDeleted"; channelId: string }
  | { __typename: "ResyncRequired"; reason: string };

export type UserEvent =
  | { __typename: "GuildJoined"; guild: GuildSummary }
  | { __typename: "GuildLeft"; guildId: string }
  | { __typename: "ReadStateUpdated"; channelId: string; readState: ReadState };
