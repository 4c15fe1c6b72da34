/**
 * The PostgreSQL bus on postgres.js: one dedicated LISTEN connection on every
 * `topic_broadcast_{k}` channel, and separate NOTIFY connections carrying batched publishes.
 * When asked, it also looks after the server's NOTIFY queue (see `maintenance.ts`).
 *
 * @module
 */

import postgres from "postgres";
import { backoff as defaultBackoff } from "../backoff.ts";
import { type Bus, type BusHandlers, type BusStatus, BusUnavailableError } from "../bus.ts";
import { allChannels, channelFor, decodeEnvelope, type Envelope } from "../envelope.ts";
import { NotifyBatcher } from "./notify_batcher.ts";
import { alterSystemMaxNotify, startQueueWatch } from "./maintenance.ts";
import type { Logger } from "../../log.ts";

/**
 * Settings of the PostgreSQL bus. The maintenance options are all optional and off when
 * absent, so a bus built only with `url`, `notifyShards` and `logger` just carries events.
 *
 * @example
 * ```ts
 * import type { PostgresBusOptions } from "./postgres_bus.ts";
 * const options: PostgresBusOptions = {
 *   url: "postgres://postgres@127.0.0.1:5432/postgres",
 *   notifyShards: 8,
 *   logger: console,
 *   queuePollInterval: 30_000,
 *   queueWarnThreshold: 0.5,
 * };
 * ```
 */
export interface PostgresBusOptions {
  /** PostgreSQL URL. */
  readonly url: string;
  /** `notifyShards`: channels to LISTEN on and hash topics over. */
  readonly notifyShards: number;
  /** Where connection events are logged. */
  readonly logger: Logger;
  /** NOTIFY connections (statements in flight). @default 2 */
  readonly notifyConnections?: number;
  /** Delay before reconnect attempt n, in ms. @default backoff */
  readonly backoff?: (attempt: number) => number;
  /** Seconds to wait for a connection before a publish fails. @default 5 */
  readonly connectTimeout?: number;
  /**
   * Milliseconds between polls of the NOTIFY queue usage, which `status().queueUsage` then
   * reports. @default no polling
   */
  readonly queuePollInterval?: number;
  /**
   * Queue usage (0..1) above which a warning is logged; needs `queuePollInterval`.
   * @default no warning
   */
  readonly queueWarnThreshold?: number;
  /**
   * `max_notify_queue_pages` to set with `ALTER SYSTEM` at start, in MB (PostgreSQL 17+,
   * superuser; otherwise logged and skipped). @default 0, which leaves the server alone
   */
  readonly alterSystemMaxNotifyMB?: number;
}

type Sql = ReturnType<typeof postgres>;

/**
 * A bus over PostgreSQL `LISTEN`/`NOTIFY`.
 *
 * @example
 * ```ts
 * import { PostgresBus } from "./postgres_bus.ts";
 * const bus = new PostgresBus({
 *   url: "postgres://postgres@127.0.0.1:5432/postgres",
 *   notifyShards: 8,
 *   logger: console,
 *   queuePollInterval: 30_000,
 *   queueWarnThreshold: 0.5,
 * });
 * await bus.start({ event: (e) => console.log(e), gap() {} });
 * console.log(bus.status().queueUsage);
 * await bus.close();
 * ```
 */
export class PostgresBus implements Bus {
  readonly #options: PostgresBusOptions;
  readonly #channels: string[];
  readonly #listenSql: Sql;
  readonly #notifySql: Sql;
  readonly #batcher: NotifyBatcher;
  readonly #backoff: (attempt: number) => number;
  #handlers: BusHandlers | undefined;
  #connected = false;
  #reconnecting = false;
  #closing = false;
  #reconnectAttempts = 0;
  #lastNotificationAt: number | undefined;
  #queueUsage: number | undefined;
  #wake: (() => void) | undefined;
  #stopQueueWatch: (() => void) | undefined;

  constructor(options: PostgresBusOptions) {
    this.#options = options;
    this.#channels = allChannels(options.notifyShards);
    this.#backoff = options.backoff ?? defaultBackoff;
    const common = {
      fetch_types: false,
      onnotice: () => {},
      connect_timeout: options.connectTimeout ?? 5,
      // postgres.js waits its own backoff (up to 20 s) between connection attempts; the
      // listener's reconnect loop below paces itself, so the driver must not add to it.
      backoff: () => 0,
    };
    const listenOptions = {
      ...common,
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      connection: { application_name: "ssepg-listen" },
      // `onnotify` is how postgres.js's own `listen()` receives notifications; it is not in
      // the typings, but using it directly keeps every channel on this one connection.
      onnotify: (_channel: string, payload: string) => this.#onNotify(payload),
      onclose: () => this.#onListenClosed(),
    };
    this.#listenSql = postgres(options.url, listenOptions as Parameters<typeof postgres>[1]);
    this.#notifySql = postgres(options.url, {
      ...common,
      max: options.notifyConnections ?? 2,
      idle_timeout: 60,
      connection: { application_name: "ssepg-notify" },
    });
    this.#batcher = new NotifyBatcher((channels, payloads) => this.#notify(channels, payloads), {
      maxInFlight: options.notifyConnections ?? 2,
    });
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#listenAll();
    await this.#startMaintenance();
  }

  async #startMaintenance(): Promise<void> {
    const { alterSystemMaxNotifyMB, queuePollInterval, queueWarnThreshold, logger } = this.#options;
    if (alterSystemMaxNotifyMB !== undefined && alterSystemMaxNotifyMB > 0) {
      // On a NOTIFY connection: the LISTEN one must stay free for notifications.
      const query = async (statement: string) => [...await this.#notifySql.unsafe(statement)];
      await alterSystemMaxNotify(query, alterSystemMaxNotifyMB, logger);
    }
    // close() may have run while ALTER SYSTEM was awaited: a watch started now would never stop.
    if (queuePollInterval === undefined || queuePollInterval <= 0 || this.#closing) return;
    this.#stopQueueWatch = startQueueWatch({
      poll: () => this.pollQueueUsage(),
      interval: queuePollInterval,
      warnThreshold: queueWarnThreshold,
      logger,
    });
  }

  async #listenAll(): Promise<void> {
    await this.#listenSql.unsafe(this.#channels.map((c) => `LISTEN "${c}"`).join("; "));
    this.#connected = true;
  }

  #onNotify(payload: string): void {
    this.#lastNotificationAt = Date.now();
    const envelope = decodeEnvelope(payload);
    if (!envelope) {
      this.#options.logger.warn(
        `ssepg: ignored a NOTIFY payload that is not an ssepg envelope (${payload.length} chars)`,
      );
      return;
    }
    this.#handlers?.event(envelope);
  }

  #onListenClosed(): void {
    if (this.#closing || !this.#handlers) return;
    if (this.#connected) this.#options.logger.warn("ssepg: LISTEN connection lost; reconnecting");
    this.#connected = false;
    if (!this.#reconnecting) void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    this.#reconnecting = true;
    try {
      for (let attempt = 0; !this.#closing; attempt++) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#backoff(attempt));
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (this.#closing) return;
        this.#reconnectAttempts++;
        try {
          await this.#listenAll();
          this.#options.logger.info(`ssepg: LISTEN connection restored after ${attempt + 1} attempt(s)`);
          // NOTIFYs sent while the listener was away are gone: tell every subscriber.
          this.#handlers?.gap();
          return;
        } catch {
          // Still down: try again after the next delay.
        }
      }
    } finally {
      this.#reconnecting = false;
      this.#wake = undefined;
    }
  }

  async publish(envelope: Envelope, payload: string): Promise<void> {
    if (this.#closing) throw new BusUnavailableError("The bus is closing");
    try {
      await this.#batcher.publish(channelFor(envelope.topic, this.#options.notifyShards), payload);
    } catch (error) {
      throw new BusUnavailableError(`PostgreSQL did not accept the NOTIFY: ${describe(error)}`, 1, { cause: error });
    }
  }

  async #notify(channels: string[], payloads: string[]): Promise<void> {
    if (channels.length === 1) {
      await this.#notifySql`select pg_notify(${channels[0]}, ${payloads[0]})`;
      return;
    }
    // One statement, one commit, one pg_notify per event; NOTIFY keeps their order. The lists go
    // as JSON text (JSON.stringify escapes natively: 3-7x faster than building text[] literals);
    // `::text` first, or postgres.js would JSON-encode the string once more for a json parameter.
    const c = JSON.stringify(channels);
    const p = JSON.stringify(payloads);
    await this.#notifySql`select pg_notify(c, p) from rows from (json_array_elements_text(${c}::text::json),
      json_array_elements_text(${p}::text::json)) with ordinality as t(c, p, n) order by n`;
  }

  /**
   * Reads `pg_notification_queue_usage()` through a NOTIFY connection; `status().queueUsage`
   * reports the last value read. With `queuePollInterval` the bus calls it itself.
   *
   * @returns Usage from 0 to 1 (of the whole server: every database shares one queue).
   *
   * @example
   * ```ts
   * import { PostgresBus } from "./postgres_bus.ts";
   * const bus = new PostgresBus({ url: "postgres://postgres@127.0.0.1:5432/postgres", notifyShards: 1, logger: console });
   * console.log(await bus.pollQueueUsage());
   * await bus.close();
   * ```
   */
  async pollQueueUsage(): Promise<number> {
    const [row] = await this.#notifySql`select pg_notification_queue_usage() as usage`;
    this.#queueUsage = Number(row.usage);
    return this.#queueUsage;
  }

  status(): BusStatus {
    return {
      kind: "postgres",
      connected: this.#connected,
      reconnectAttempts: this.#reconnectAttempts,
      lastNotificationAt: this.#lastNotificationAt,
      queueUsage: this.#queueUsage,
      notifyBatches: this.#batcher.batches,
      notifyEvents: this.#batcher.events,
      notifyBatchSizes: this.#batcher.batchSizes,
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#stopQueueWatch?.();
    this.#stopQueueWatch = undefined;
    this.#wake?.();
    this.#connected = false;
    await Promise.allSettled([this.#listenSql.end({ timeout: 1 }), this.#notifySql.end({ timeout: 5 })]);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
