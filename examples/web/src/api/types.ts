/**
 * The shapes the data layer hands to the UI: the client SDK's generated result types
 * (client/src/operations/*.graphql), under the names the UI uses.
 */
import type {
  ChannelEventFragment,
  ChannelSummaryFragment,
  GuildEventFragment,
  GuildMembersQuery,
  GuildSummaryFragment,
  LogInMutation,
  MessageFieldsFragment,
  MyGuildsQuery,
  ReadStateFieldsFragment,
  UserEventFragment,
  UserSummaryFragment,
} from "../../../../client/src/core.js";

export type { PresenceStatus } from "../../../../client/src/core.js";

/** Where the API is: HTTP for queries and mutations, WebSocket for subscriptions. */
export interface ApiOptions {
  httpUrl: string;
  wsUrl: string;
}

export type UserRef = UserSummaryFragment;
/** What signing up or in answers (SignUp's `register` has the same shape). */
export type Session = LogInMutation["login"];
export type GuildSummary = MyGuildsQuery["me"]["guilds"][number];
export type ReadState = ReadStateFieldsFragment;
export type ChannelInfo = ChannelSummaryFragment;
export type Member = GuildMembersQuery["guild"]["members"]["edges"][number]["node"];
/** A guild with its channels (GuildChannels) and its first members (GuildMembers). */
export type GuildDetails = GuildSummaryFragment & { members: Member[] };
export type Message = MessageFieldsFragment;

/** One page of history, oldest first; `hasOlder` when scrolling further back finds more. */
export interface MessagePage {
  messages: Message[];
  hasOlder: boolean;
}

export type ChannelEvent = ChannelEventFragment;
export type GuildEvent = GuildEventFragment;
export type UserEvent = UserEventFragment;
