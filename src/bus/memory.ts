/**
 * The in-process bus: used when no `databaseUrl` is set. One instance only.
 *
 * @module
 */

import { type Bus, type BusHandlers, type BusStatus, BusUnavailableError } from "./bus.ts";
import type { Envelope } from "./envelope.ts";

/**
 * Delivers every publish straight back to this instance.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./memory.ts";
 * const bus = new MemoryBus();
 * await bus.start({ event: (e) => console.log(e.data), gap() {} });
 * await bus.publish({ topic: "a", data: '"hi"', id: "1" }, "");
 * await bus.close();
 * ```
 */
export class MemoryBus implements Bus {
  #handlers: BusHandlers | undefined;
  #lastNotificationAt: number | undefined;
  #published = 0;

  start(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    return Promise.resolve();
  }

  publish(envelope: Envelope, _payload: string): Promise<void> {
    if (!this.#handlers) return Promise.reject(new BusUnavailableError("The bus is not running"));
    this.#published++;
    this.#lastNotificationAt = Date.now();
    this.#handlers.event(envelope);
    return Promise.resolve();
  }

  status(): BusStatus {
    return {
      kind: "memory",
      connected: true,
      reconnectAttempts: 0,
      lastNotificationAt: this.#lastNotificationAt,
      queueUsage: undefined,
      notifyBatches: this.#published,
      notifyEvents: this.#published,
    };
  }

  close(): Promise<void> {
    this.#handlers = undefined;
    return Promise.resolve();
  }
}
