/** The operations GraphiQL opens with: a guided tour for someone trying Concord for the first time. */
export const EXAMPLE_OPERATIONS = `# Welcome to Concord. Run these in order (the ▶ button picks one).
# 1. Register (or Login); copy the token into the Headers tab as
#    {"Authorization": "Bearer <token>"}; it is sent with subscriptions too.
mutation Register {
  register(input: { username: "ada", password: "correct horse battery" }) {
    token
    user { id username }
  }
}

mutation Login {
  login(input: { username: "ada", password: "correct horse battery" }) { token }
}

# 2. Create a guild; it comes with a #general channel.
mutation CreateGuild {
  createGuild(input: { name: "Analytical Engines" }) {
    id
    channels { id name }
  }
}

# 3. Open a live subscription to the channel (paste its id), then send from another tab.
subscription Live($channelId: ID!) {
  channelEvents(channelId: $channelId) {
    __typename
    ... on MessageCreated { message { id content author { username } createdAt } }
    ... on MessageUpdated { message { id content editedAt } }
    ... on MessageDeleted { messageId }
  }
}

# Or follow every channel you can read (guilds, DMs, channels created later) on one
# subscription, as a bot does; each message event's cursor is its channel's place.
subscription Everything {
  messageEvents {
    __typename
    ... on ChannelWatched { channelId cursor }
    ... on MessageCreated { channelId cursor message { id content author { username } } }
    ... on MessageDeleted { channelId messageId }
  }
}

mutation Send($channelId: ID!) {
  sendMessage(input: { channelId: $channelId, content: "Hello, <@me>!" }) { id content createdAt }
}

# 4. Scroll back: the newest 50, then pass pageInfo.startCursor as "before".
query History($channelId: ID!, $before: ID) {
  channel(id: $channelId) {
    name
    messages(last: 50, before: $before) {
      pageInfo { hasPreviousPage startCursor }
      edges { node { id content author { username } } }
    }
  }
}

# 5. Incremental delivery: the guild's name at once, each channel as it is ready (@stream),
#    and the member count after (@defer). Paste the guild id.
query Incremental($guildId: ID!) {
  guild(id: $guildId) {
    name
    channels @stream(initialCount: 1) { id name }
    ... @defer(label: "members") { memberCount onlineCount }
  }
}
`;
