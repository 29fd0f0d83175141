import { builder } from "./builder.js";
import "./user.js";
import "./session.js";
import "./guild.js";
import "./channel.js";
import "./message.js";
import "./presence.js";
import "./read-state.js";
import "./permissions.js";
import "./guild-channel.js";
import "./relationship.js";
import "./direct-message.js";
import "./moderation.js";
import "./events.js";
import { freshReadsPerMutationField } from "./mutation-reads.js";

/** The Concord schema, built once per process. */
export const schema = freshReadsPerMutationField(builder.toSchema({ sortSchema: true }));
