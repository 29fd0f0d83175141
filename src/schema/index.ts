import { builder } from "./builder.js";
import "./user.js";
import "./guild.js";
import "./channel.js";
import "./message.js";
import "./presence.js";
import "./read-state.js";
import "./events.js";

/** The Concord schema, built once per process. */
export const schema = builder.toSchema({ sortSchema: true });
