import type { Services } from "../context.js";
import { topics } from "../pubsub/topics.js";
import { NO_BROAD_MENTIONS } from "../stores/read-state-store.js";

/**
 * What follows a message deletion once the store reported it (MessageStore.delete returned
 * true), wherever it came from (deleteMessage, a ban's message purge): its mentions leave the
 * read-state index, then MessageDeleted is published on the channel's topic in the channel's
 * event order (ChannelSequencer). Resolves once published.
 *
 * The mention cleanup runs always, not only when the deleted copy had mentions: an edit racing
 * the delete may have added some since (see editMessage, which looks again after its own write).
 */
export async function announceMessageDeleted(services: Services, channelId: bigint, messageId: bigint): Promise<void> {
  await Promise.all([services.readStates.setMentions(channelId, messageId, []), services.readStates.setBroadMentions(channelId, messageId, NO_BROAD_MENTIONS)]);
  await services.sequencer.enqueue(channelId, () =>
    services.bus.publish(topics.channel(channelId), { type: "MessageDeleted", channelId, eventId: services.newId(), messageId }),
  );
}
