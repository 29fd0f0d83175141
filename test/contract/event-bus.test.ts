import { MemoryEventBus } from "../../src/pubsub/event-bus.memory.js";
import { eventBusContract } from "./event-bus.contract.js";

// Delivery is synchronous inside publish, so absence is proven without waiting.
eventBusContract("MemoryEventBus", async () => {
  const bus = new MemoryEventBus();
  return { bus, close: () => bus.close() };
}, { absenceWindowMs: 0 });
