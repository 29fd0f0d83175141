/**
 * The OpenTelemetry semantic-convention attribute names Concord's spans use. Stable ones come
 * from the package; incubating ones are copied here, as the package advises, so a rename there
 * cannot silently change them.
 */
export {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";

export const ATTR_SERVICE_INSTANCE_ID = "service.instance.id";
export const ATTR_GRAPHQL_OPERATION_NAME = "graphql.operation.name";
export const ATTR_GRAPHQL_OPERATION_TYPE = "graphql.operation.type";
export const ATTR_MESSAGING_SYSTEM = "messaging.system";
export const ATTR_MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const ATTR_MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const ATTR_MESSAGING_DESTINATION_NAME = "messaging.destination.name";
/** Concord's own: the event's type (MessageCreated, ...), never its contents. */
export const ATTR_CONCORD_EVENT_TYPE = "concord.event.type";
