/**
 * Every GraphQL operation the web client sends, in one place: the data layer (./index.ts) is
 * the only module that imports them, so moving to generated, typed documents (the `client/`
 * package) touches these two files and nothing in the UI.
 */
import { gql } from "@urql/core";

const MESSAGE_FIELDS = gql`
  fragment MessageFields on Message {
    id
    content
    createdAt
    editedAt
    author {
      id
      username
    }
  }
`;

const SESSION_FIELDS = gql`
  fragment SessionFields on AuthPayload {
    token
    user {
      id
      username
    }
  }
`;

export const REGISTER = gql`
  mutation Register($username: String!, $password: String!) {
    register(input: { username: $username, password: $password }) {
      ...SessionFields
    }
  }
  ${SESSION_FIELDS}
`;

export const LOGIN = gql`
  mutation Login($username: String!, $password: String!) {
    login(input: { username: $username, password: $password }) {
      ...SessionFields
    }
  }
  ${SESSION_FIELDS}
`;

export const ME = gql`
  query Me {
    me {
      id
      username
      guilds {
        id
        name
      }
    }
  }
`;

export const GUILD = gql`
  query Guild($guildId: ID!) {
    guild(id: $guildId) {
      id
      name
      channels {
        id
        name
        kind
        position
        readState {
          id
          unreadCount
          mentionCount
        }
      }
      members(first: 100) {
        edges {
          node {
            id
            user {
              id
              username
              presence
            }
          }
        }
      }
    }
  }
`;

export const GUILD_UNREAD = gql`
  query GuildUnread($guildId: ID!) {
    guild(id: $guildId) {
      id
      channels {
        id
        kind
        readState {
          id
          unreadCount
        }
      }
    }
  }
`;

export const MESSAGES = gql`
  query Messages($channelId: ID!, $last: Int!, $before: ID) {
    channel(id: $channelId) {
      id
      messages(last: $last, before: $before) {
        pageInfo {
          hasPreviousPage
          startCursor
        }
        edges {
          node {
            ...MessageFields
          }
        }
      }
    }
  }
  ${MESSAGE_FIELDS}
`;

export const SEND_MESSAGE = gql`
  mutation SendMessage($channelId: ID!, $content: String!, $nonce: String!) {
    sendMessage(input: { channelId: $channelId, content: $content, nonce: $nonce }) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

export const EDIT_MESSAGE = gql`
  mutation EditMessage($channelId: ID!, $messageId: ID!, $content: String!) {
    editMessage(input: { channelId: $channelId, messageId: $messageId, content: $content }) {
      ...MessageFields
    }
  }
  ${MESSAGE_FIELDS}
`;

export const DELETE_MESSAGE = gql`
  mutation DeleteMessage($channelId: ID!, $messageId: ID!) {
    deleteMessage(input: { channelId: $channelId, messageId: $messageId })
  }
`;

export const ACK_MESSAGE = gql`
  mutation AckMessage($channelId: ID!, $messageId: ID!) {
    ackMessage(input: { channelId: $channelId, messageId: $messageId }) {
      id
      unreadCount
      mentionCount
    }
  }
`;

export const START_TYPING = gql`
  mutation StartTyping($channelId: ID!) {
    startTyping(channelId: $channelId)
  }
`;

export const CREATE_GUILD = gql`
  mutation CreateGuild($name: String!) {
    createGuild(input: { name: $name }) {
      id
      name
    }
  }
`;

export const CREATE_INVITE = gql`
  mutation CreateInvite($guildId: ID!) {
    createInvite(input: { guildId: $guildId, maxUses: 25, expiresInSeconds: 86400 }) {
      code
      expiresAt
    }
  }
`;

export const JOIN_GUILD = gql`
  mutation JoinGuild($code: String!) {
    joinGuild(code: $code) {
      id
      name
    }
  }
`;

export const CHANNEL_EVENTS = gql`
  subscription ChannelEvents($channelId: ID!) {
    channelEvents(channelId: $channelId) {
      __typename
      ... on MessageCreated {
        message {
          ...MessageFields
        }
      }
      ... on MessageUpdated {
        message {
          ...MessageFields
        }
      }
      ... on MessageDeleted {
        channelId
        messageId
      }
      ... on TypingStarted {
        channelId
        expiresAt
        user {
          id
          username
        }
      }
      ... on ResyncRequired {
        reason
      }
    }
  }
  ${MESSAGE_FIELDS}
`;

export const GUILD_EVENTS = gql`
  subscription GuildEvents($guildId: ID!) {
    guildEvents(guildId: $guildId) {
      __typename
      ... on PresenceUpdated {
        status
        user {
          id
          username
        }
      }
      ... on MemberJoined {
        user {
          id
          username
          presence
        }
      }
      ... on MemberLeft {
        userId
      }
      ... on ChannelCreated {
        channel {
          id
        }
      }
      ... on ChannelDeleted {
        channelId
      }
      ... on ResyncRequired {
        reason
      }
    }
  }
`;

export const USER_EVENTS = gql`
  subscription UserEvents {
    userEvents {
      __typename
      ... on GuildJoined {
        guild {
          id
          name
        }
      }
      ... on GuildLeft {
        guildId
      }
      ... on ReadStateUpdated {
        channelId
        readState {
          id
          unreadCount
          mentionCount
        }
      }
    }
  }
`;

export const LOGOUT = gql`
  mutation Logout {
    logout
  }
`;
