import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ConcurrencySlots } from "../../src/limits/concurrency-slots.js";
import { SocketGuard, type SocketGuardOptions } from "../../src/gateway/socket-guard.js";
import { RecentDeletions } from "../../src/pubsub/recent-deletions.js";

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  closed: { code: number; reason: string } | null = null;
  close(code: number, reason: string) {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  send(count = 1) {
    for (let i = 0; i < count; i++) this.emit("message");
  }
}

const options = (overrides: Partial<SocketGuardOptions> = {}): SocketGuardOptions => ({
  maxSubscriptions: 3,
  maxInFlight: 2,
  maxQueued: 2,
  messagesPerMinute: 10,
  maxSocketsPerUser: 2,
  maxSocketsPerAddress: 3,
  anonymousIdleMs: 1_000,
  subscriptionStartsInFlight: 100,
  ...overrides,
});

describe("ConcurrencySlots", () => {
  it("runs at most `limit` at once, queues up to `maxQueued`, refuses the rest, and never lets a newcomer overtake", async () => {
    const slots = new ConcurrencySlots(2, 1);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (n: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(20);
      order.push(n);
      running--;
      return n;
    };
    const a = slots.run(task(1));
    const b = slots.run(task(2));
    const c = slots.run(task(3));
    expect(slots.run(task(4))).toBeNull();
    expect(await Promise.all([a, b, c])).toEqual([1, 2, 3]);
    expect(peak).toBe(2);
    expect(slots.active).toBe(0);
  });

  it("releases the slot when a task fails", async () => {
    const slots = new ConcurrencySlots(1, 0);
    await expect(slots.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await slots.run(async () => 7)).toBe(7);
  });
});

describe("SocketGuard", () => {
  it("caps sockets per address, freeing a place when one closes", () => {
    const guard = new SocketGuard(options());
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of sockets) {
      expect(guard.admitsAddress("203.0.113.1")).toBe(true);
      guard.open(s, "203.0.113.1");
    }
    expect(guard.admitsAddress("203.0.113.1")).toBe(false);
    expect(guard.admitsAddress("203.0.113.2")).toBe(true);
    guard.close(sockets[0]!);
    guard.close(sockets[0]!);
    expect(guard.admitsAddress("203.0.113.1")).toBe(true);
    guard.stop();
  });

  it("caps sockets per user", () => {
    const guard = new SocketGuard(options());
    const [a, b, c] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of [a, b, c]) guard.open(s, "x");
    expect(guard.authenticate(a, 1n)).toBe(true);
    expect(guard.authenticate(a, 1n)).toBe(true); // the same socket again changes nothing
    expect(guard.authenticate(b, 1n)).toBe(true);
    expect(guard.authenticate(c, 1n)).toBe(false);
    guard.close(a);
    expect(guard.authenticate(c, 1n)).toBe(true);
    guard.stop();
  });

  it("refuses operations over the per-minute budget in the order they are handled, and closes a socket handling twice the budget", async () => {
    const guard = new SocketGuard(options());
    const socket = new FakeSocket();
    guard.open(socket, "x");
    for (let i = 0; i < 10; i++) expect(await guard.countOperation(socket)).toBeNull();
    const error = await guard.countOperation(socket);
    expect(error?.extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "socket.messages", limit: 10, scope: "IP" });
    expect(Number(error?.extensions.retryAfterMs)).toBeGreaterThan(50_000);
    expect(socket.closed).toBeNull();
    for (let i = 0; i < 10; i++) await guard.countOperation(socket);
    expect(socket.closed?.code).toBe(4029);
    guard.stop();
  });

  it("closes a socket at once when its messages of any kind reach ten times the budget (a burst cannot queue without bound)", async () => {
    const guard = new SocketGuard(options());
    const socket = new FakeSocket();
    guard.open(socket, "x");
    socket.send(100);
    await sleep(0);
    expect(socket.closed).toBeNull();
    socket.send(1);
    await sleep(0);
    expect(socket.closed?.code).toBe(4029);
    guard.stop();
  });

  it("lets a socket start a few operations per event-loop turn, in order, so a burst is spread over turns", async () => {
    const guard = new SocketGuard(options());
    const socket = new FakeSocket();
    guard.open(socket, "x");
    const started: number[] = [];
    const turns: number[] = [];
    // Counts turns of the event loop: an immediate queued from an immediate runs in the next turn.
    let turn = 0;
    let counting = true;
    const tick = () => {
      turn++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        await guard.turn(socket);
        started.push(i);
        turns.push(turn);
      }),
    );
    counting = false;
    expect(started).toEqual([...started].sort((a, b) => a - b));
    // 12 operations at 4 per turn: at least 3 different turns.
    expect(new Set(turns).size).toBeGreaterThanOrEqual(3);
    guard.stop();
  });

  it("caps live subscriptions per socket, counting only those still live", () => {
    const guard = new SocketGuard(options());
    const socket = new FakeSocket();
    guard.open(socket, "x");
    const live = new Set<string>();
    for (const id of ["1", "2", "3"]) {
      expect(guard.reserveSubscription(socket, id, (k) => live.has(k))).toBeNull();
      live.add(id);
    }
    const refused = guard.reserveSubscription(socket, "4", (k) => live.has(k));
    expect(refused?.extensions).toMatchObject({ code: "LIMIT_EXCEEDED", resource: "subscriptionsPerSocket", limit: 3, setting: "MAX_SUBSCRIPTIONS_PER_SOCKET" });
    live.delete("2");
    expect(guard.reserveSubscription(socket, "4", (k) => live.has(k))).toBeNull();
    guard.stop();
  });

  it("runs a socket's operations within its in-flight limit and refuses them when its queue is full", async () => {
    const guard = new SocketGuard(options({ maxInFlight: 1, maxQueued: 1 }));
    const socket = new FakeSocket();
    guard.open(socket, "x");
    const slow = () => sleep(30).then(() => "done");
    const first = guard.run(socket, "operation", slow);
    const second = guard.run(socket, "operation", slow);
    await expect(guard.run(socket, "operation", slow)).rejects.toMatchObject({ extensions: { code: "RATE_LIMITED", bucket: "socket.operations" } });
    expect(await Promise.all([first, second])).toEqual(["done", "done"]);
    guard.stop();
  });

  it("closes anonymous sockets idle longer than the limit, but not authenticated ones", async () => {
    const guard = new SocketGuard(options({ anonymousIdleMs: 1_000 }));
    const [anonymous, signedIn] = [new FakeSocket(), new FakeSocket()];
    guard.open(anonymous, "x");
    guard.open(signedIn, "x");
    guard.authenticate(signedIn, 5n);
    await sleep(1_600);
    expect(anonymous.closed?.code).toBe(1000);
    expect(signedIn.closed).toBeNull();
    guard.stop();
  });
});

describe("RecentDeletions", () => {
  it("remembers deleted ids for its time to live, and at most `capacity` of them", () => {
    let now = 0;
    const deletions = new RecentDeletions(2, 1_000, () => now);
    deletions.add(1n);
    deletions.add(2n);
    expect(deletions.has(1n)).toBe(true);
    deletions.add(3n);
    expect(deletions.has(1n)).toBe(false);
    expect(deletions.has(3n)).toBe(true);
    now = 1_500;
    expect(deletions.has(2n)).toBe(false);
  });
});
