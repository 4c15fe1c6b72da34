/**
 * The PostgreSQL bus on postgres.js: one dedicated LISTEN connection on every
 * `topic_broadcast_{k}` channel, and separate NOTIFY connections carrying batched publishes.
 * A liveness ping (a NOTIFY on a private channel that comes back through LISTEN) notices
 * connections that stay open but carry nothing, and replaces them. When asked, it also looks
 * after the server's NOTIFY queue (see `maintenance.ts`).
 *
 * @module
 */

import postgres from "postgres";
import { backoff as defaultBackoff } from "../backoff.ts";
import { type Bus, type BusHandlers, type BusStatus, BusUnavailableError, type PublishMarks } from "../bus.ts";
import { allChannels, channelFor, decodeEnvelope, type Envelope } from "../envelope.ts";
import { FRAGMENT_CHANNEL, FragmentAssembler, splitEnvelope } from "../fragments.ts";
import { isValidTopic } from "../../topic.ts";
import { utf8Length } from "../../utf8.ts";
import { NotifyBatcher, type NotifyStatement } from "./notify_batcher.ts";
import { OwnPayloads } from "./own_payloads.ts";
import { classifyNotifyError } from "./notify_outcome.ts";
import { describeConnectError } from "./connect_error.ts";
import { alterSystemMaxNotify, startQueueWatch } from "./maintenance.ts";
import { checkInstalledShards } from "../../sql/shard_check.ts";
import type { Logger } from "../../log.ts";

/**
 * How often the liveness check runs, in ms: it NOTIFYs the bus's private ping channel through a
 * NOTIFY connection and looks at what came back. One small NOTIFY per instance every 2 s.
 */
const PING_INTERVAL = 2_000;

/**
 * How long, in ms, the bus waits for its liveness ping to come back through the LISTEN
 * connection before it declares the database stalled (a connection that is open but carries no
 * bytes: a frozen proxy, a hung server, a black-holed route), and how long one LISTEN attempt may
 * take. With pings every `PING_INTERVAL` a stall is noticed 5 to 7 s after the last answer.
 */
const LIVENESS_TIMEOUT = 5_000;

/** Default `publishTimeout`, ms. */
const DEFAULT_PUBLISH_TIMEOUT = 5_000;
/** Default `maxPendingPublishes`. */
const DEFAULT_MAX_PENDING = 10_000;

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
  /**
   * Milliseconds a publish may wait (`publishTimeout`): a NOTIFY not sent by then is dropped
   * from the queue and refused, one sent but not answered gets an "outcome unknown" error.
   * @default 5000
   */
  readonly publishTimeout?: number;
  /** Publishes waiting for the database at once (`maxPendingPublishes`); more are refused. @default 10000 */
  readonly maxPendingPublishes?: number;
  /**
   * Largest NOTIFY payload in UTF-8 bytes (`maxNotifyBytes`); a larger envelope is sent as
   * fragments. @default 7900
   */
  readonly maxNotifyBytes?: number;
  /**
   * Largest envelope this instance rebuilds from fragments (`maxEventBytes`); a larger one is
   * dropped and its topic's subscribers get a gap. @default 1048576
   */
  readonly maxEventBytes?: number;
  /** Milliseconds between liveness pings (tests shorten it). @default 2000 */
  readonly pingInterval?: number;
  /** Milliseconds without a ping coming back before the bus declares a stall. @default 5000 */
  readonly livenessTimeout?: number;
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
  /**
   * This instance's own channel for liveness pings: not a `topic_broadcast_{k}` channel, so no
   * other instance (TypeScript or Go) listens to it or mistakes a ping for an event.
   */
  readonly #pingChannel = `ssepg_ping_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  readonly #common: Parameters<typeof postgres>[1];
  /** Replaced by a fresh client when a stall is declared, so these are not readonly. */
  #listenSql: Sql;
  #notifySql: Sql;
  #warnings: readonly string[] = [];
  readonly #batcher: NotifyBatcher;
  readonly #maxNotifyBytes: number;
  readonly #assembler: FragmentAssembler;
  /** Events this bus sent as fragments, and the fragments they took. */
  #fragmentedSent = 0;
  #fragmentsSent = 0;
  readonly #backoff: (attempt: number) => number;
  readonly #pingInterval: number;
  readonly #livenessTimeout: number;
  /** A NOTIFY statement unanswered this long means a stuck connection (at least a ping's wait). */
  readonly #statementStallTimeout: number;
  #handlers: BusHandlers | undefined;
  /** `handlers.timed`: read the clock when a notification arrives. */
  #timed = false;
  /** What this bus sent and has not received back yet: those come back without a decode. */
  readonly #own: OwnPayloads;
  #connected = false;
  #reconnecting = false;
  #closing = false;
  #reconnectAttempts = 0;
  #lastNotificationAt: number | undefined;
  #queueUsage: number | undefined;
  #wake: (() => void) | undefined;
  #stopQueueWatch: (() => void) | undefined;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #pingOutstanding = false;
  #pingSeq = 0;
  /** `performance.now()` of the last ping that came back (or of the last LISTEN that succeeded). */
  #lastPongAt = 0;
  /** `performance.now()` of the last liveness check. */
  #lastCheckAt = 0;

  /**
   * Prepares the bus; nothing connects before {@link PostgresBus.start}.
   *
   * @param options Where to connect and how.
   */
  constructor(options: PostgresBusOptions) {
    this.#options = options;
    this.#channels = allChannels(options.notifyShards);
    this.#backoff = options.backoff ?? defaultBackoff;
    this.#pingInterval = options.pingInterval ?? PING_INTERVAL;
    this.#livenessTimeout = options.livenessTimeout ?? LIVENESS_TIMEOUT;
    this.#maxNotifyBytes = options.maxNotifyBytes ?? 7900;
    this.#own = new OwnPayloads(options.maxPendingPublishes ?? DEFAULT_MAX_PENDING);
    this.#assembler = new FragmentAssembler(options.maxEventBytes ?? 1_048_576, (topic, reason) => {
      this.#options.logger.warn(`ssepg: dropped a large event: ${reason}`);
      // A topic named by a malformed header is not trusted to pick subscribers.
      if (topic !== undefined && isValidTopic(topic)) this.#handlers?.gap(topic);
      else this.#handlers?.gap();
    });
    const publishTimeout = options.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    this.#statementStallTimeout = Math.max(this.#livenessTimeout, publishTimeout);
    this.#common = {
      fetch_types: false,
      onnotice: () => {},
      connect_timeout: options.connectTimeout ?? 5,
      // postgres.js waits its own backoff (up to 20 s) between connection attempts; the
      // listener's reconnect loop below paces itself, so the driver must not add to it.
      backoff: () => 0,
    };
    this.#listenSql = this.#createListenSql();
    this.#notifySql = this.#createNotifySql();
    this.#batcher = new NotifyBatcher((channels, payloads) => this.#notify(channels, payloads), {
      maxInFlight: options.notifyConnections ?? 2,
      timeout: publishTimeout,
      maxPending: options.maxPendingPublishes ?? DEFAULT_MAX_PENDING,
    });
  }

  #createListenSql(): Sql {
    const sql: Sql = postgres(
      this.#options.url,
      {
        ...this.#common,
        max: 1,
        idle_timeout: 0,
        max_lifetime: null,
        connection: { application_name: "ssepg-listen" },
        // `onnotify` is how postgres.js's own `listen()` receives notifications; it is not in
        // the typings, but using it directly keeps every channel on this one connection.
        // A client replaced after a stall may still close or deliver late: it no longer counts.
        onnotify: (channel: string, payload: string) => {
          if (sql === this.#listenSql) this.#onNotify(channel, payload);
        },
        onclose: () => {
          if (sql === this.#listenSql) this.#onListenClosed();
        },
      } as Parameters<typeof postgres>[1],
    );
    return sql;
  }

  #createNotifySql(): Sql {
    return postgres(this.#options.url, {
      ...this.#common,
      max: this.#options.notifyConnections ?? 2,
      idle_timeout: 60,
      connection: { application_name: "ssepg-notify" },
    });
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    this.#timed = handlers.timed === true;
    try {
      await this.#listenAll();
    } catch (error) {
      // The driver's own words (`connect ECONNREFUSED 127.0.0.1:5432`) name neither PostgreSQL
      // nor the database: say which, without the password, and what the code means.
      throw new BusUnavailableError(describeConnectError(error, this.#options.url), 1, { cause: error });
    }
    // close() may have run while LISTEN was awaited: a timer started then would never stop.
    if (!this.#closing) {
      this.#lastCheckAt = performance.now();
      this.#scheduleLivenessCheck();
    }
    await this.#startMaintenance();
  }

  async #startMaintenance(): Promise<void> {
    const { alterSystemMaxNotifyMB, queuePollInterval, queueWarnThreshold, logger } = this.#options;
    // Events published from SQL go to the channel the installed function computes: a shard
    // count that differs from this instance's loses them silently, so say so loudly.
    // One short-lived connection of its own: the NOTIFY pool opens only when events flow.
    const probe = postgres(this.#options.url, {
      ...this.#common,
      max: 1,
      connection: { application_name: "ssepg-check" },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const mismatch = await Promise.race([
      checkInstalledShards(probe, this.#options.notifyShards).catch(() => undefined),
      // A database that stalls right after LISTEN must not hold the start: the check is advice.
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 5_000)),
    ]).finally(() => {
      clearTimeout(timer);
      void probe.end({ timeout: 0 });
    });
    if (mismatch) {
      this.#warnings = [mismatch];
      logger.warn(`ssepg: ${mismatch}`);
    }
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
    const sql = this.#listenSql;
    const statement = [...this.#channels, FRAGMENT_CHANNEL, this.#pingChannel].map((c) => `LISTEN "${c}"`).join("; ");
    let timer: ReturnType<typeof setTimeout> | undefined;
    let hung = false;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        hung = true;
        reject(new Error(`LISTEN was not answered within ${this.#livenessTimeout} ms`));
      }, this.#livenessTimeout);
    });
    try {
      await Promise.race([sql.unsafe(statement), timedOut]);
    } catch (error) {
      // A LISTEN that hangs (a stalled connection that got past connect_timeout) leaves its
      // client stuck on it: the next attempt starts from a fresh one.
      if (hung && sql === this.#listenSql && !this.#closing) this.#replaceListenSql();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#lastPongAt = performance.now();
    this.#connected = true;
  }

  #onNotify(channel: string, payload: string): void {
    if (channel === FRAGMENT_CHANNEL) {
      this.#lastNotificationAt = Date.now();
      this.#onFragment(payload);
      return;
    }
    // One transaction's notifications arrive together: anything between two fragments of a set
    // means the set's other fragments are not coming.
    if (this.#assembler.open) this.#assembler.interrupt();
    if (channel === this.#pingChannel) {
      this.#lastPongAt = performance.now();
      return;
    }
    this.#lastNotificationAt = Date.now();
    this.#deliver(payload, this.#timed ? performance.now() : undefined);
  }

  #onFragment(payload: string): void {
    const at = this.#timed ? performance.now() : undefined;
    const assembled = this.#assembler.accept(payload);
    if (assembled === undefined) return;
    const envelope = decodeEnvelope(assembled.text);
    if (!envelope || envelope.id !== assembled.id || envelope.topic !== assembled.topic) {
      this.#options.logger.warn(
        `ssepg: dropped a large event whose fragments do not hold a valid envelope (event ${assembled.id})`,
      );
      if (isValidTopic(assembled.topic)) this.#handlers?.gap(assembled.topic);
      return;
    }
    this.#handlers?.event(envelope, at);
  }

  #deliver(payload: string, at: number | undefined): void {
    // This instance's own events come back as the very text it sent: no need to parse it again.
    const envelope = this.#own.take(payload) ?? decodeEnvelope(payload);
    if (!envelope) {
      this.#options.logger.warn(
        `ssepg: ignored a NOTIFY payload that is not an ssepg envelope (${payload.length} chars)`,
      );
      return;
    }
    this.#handlers?.event(envelope, at);
  }

  #onListenClosed(): void {
    if (this.#closing || !this.#handlers) return;
    // The rest of a set being rebuilt is gone; the gap after the reconnect tells every subscriber.
    this.#assembler.interrupt(false);
    if (this.#connected) {
      this.#options.logger.warn("ssepg: LISTEN connection lost; reconnecting");
      // Not sent yet, so safe to refuse: none of them is answered 200 while nothing listens.
      // Statements already out keep their outcome; the gap after the reconnect covers them.
      this.#batcher.failQueued(new BusUnavailableError("The LISTEN connection was lost"));
    }
    this.#connected = false;
    if (!this.#reconnecting) void this.#reconnect();
  }

  /** Runs the liveness check `pingInterval` from now, and again after it, until close(). */
  #scheduleLivenessCheck(): void {
    // A chain of timeouts rather than an interval: a check never overlaps the previous one.
    this.#pingTimer = setTimeout(() => {
      this.#checkLiveness();
      if (!this.#closing) this.#scheduleLivenessCheck();
    }, this.#pingInterval);
  }

  /**
   * The liveness check, every `pingInterval` while connected. A closed connection is noticed by
   * postgres.js at once, but one that stays open and carries nothing is not (TCP keep-alive
   * takes minutes, and a frozen proxy answers it): only a round trip shows it. So the bus
   * NOTIFYs its ping channel through a NOTIFY connection and expects the ping back through the
   * LISTEN connection; a NOTIFY statement stuck far beyond its time counts as a stall too (a
   * frozen NOTIFY connection while the ping found the other one).
   */
  #checkLiveness(): void {
    const now = performance.now();
    // A check that runs far behind time means this process was blocked (a long GC, a busy
    // loop): pings that came back meanwhile wait unread in the socket, so judge next time.
    const late = now - this.#lastCheckAt > 2 * this.#pingInterval;
    this.#lastCheckAt = now;
    if (this.#closing || !this.#connected || late) return;
    const silent = now - this.#lastPongAt;
    if (silent > this.#livenessTimeout) {
      this.#stalled(`no liveness ping came back through LISTEN for ${Math.round(silent)} ms`);
      return;
    }
    const oldest = this.#batcher.oldestInFlightAt;
    if (oldest !== undefined && now - oldest > this.#statementStallTimeout) {
      this.#stalled(`a NOTIFY statement has not been answered for ${Math.round(now - oldest)} ms`);
      return;
    }
    // One ping at a time: pings must not pile up on a connection that does not answer.
    if (this.#pingOutstanding) return;
    this.#pingOutstanding = true;
    const sql = this.#notifySql;
    sql`select pg_notify(${this.#pingChannel}, ${String(++this.#pingSeq)})`.then(
      () => {},
      () => {}, // A failed ping is a ping that does not come back: the timeout above reports it.
    ).finally(() => {
      if (sql === this.#notifySql) this.#pingOutstanding = false;
    });
  }

  /**
   * Declares the database stalled: the bus is disconnected (health 503, publishes refused),
   * publishes still queued are refused (none was sent), both clients are discarded (statements
   * they carried fail as "outcome unknown"), subscribers get a gap, and the reconnect loop
   * starts, which sends another gap once LISTEN works again.
   */
  #stalled(reason: string): void {
    this.#options.logger.warn(`ssepg: the database connection stalled (${reason}); reconnecting`);
    this.#connected = false;
    this.#assembler.interrupt(false);
    this.#batcher.failQueued(new BusUnavailableError(`The database connection stalled (${reason})`));
    this.#replaceListenSql();
    this.#replaceNotifySql();
    // Tell subscribers now, not only once LISTEN is back: a stall was noticed seconds after it
    // began, events may already be missing, and the database may stay away for long. The
    // reconnect sends another gap for what is lost until then.
    this.#handlers?.gap();
    if (!this.#reconnecting) void this.#reconnect();
  }

  #replaceListenSql(): void {
    const stuck = this.#listenSql;
    this.#listenSql = this.#createListenSql();
    // Timeout 0: postgres.js destroys the connections at once, rejecting what they carry,
    // instead of waiting for answers that are not coming.
    void stuck.end({ timeout: 0 }).catch(() => {});
  }

  #replaceNotifySql(): void {
    const stuck = this.#notifySql;
    this.#notifySql = this.#createNotifySql();
    this.#pingOutstanding = false;
    void stuck.end({ timeout: 0 }).catch(() => {});
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
          // What was sent while the listener was away is not coming back.
          this.#own.clear();
          // NOTIFYs sent while the listener was away are gone: tell every subscriber. This comes
          // after LISTEN is back, so it covers every NOTIFY that committed while it was away,
          // this instance's own publishes that were answered 200 included.
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

  async publish(envelope: Envelope, payload: string, marks?: PublishMarks): Promise<void> {
    if (this.#closing) throw new BusUnavailableError("The bus is closing");
    // While LISTEN is down this instance would not receive its own event, and its subscribers
    // would learn of it only as a gap: refuse rather than answer 200 for it.
    if (!this.#connected) throw new BusUnavailableError("The LISTEN connection is down");
    try {
      // Most payloads are far below the limit: measure UTF-8 only when characters might not fit.
      if (payload.length * 3 > this.#maxNotifyBytes && utf8Length(payload) > this.#maxNotifyBytes) {
        const fragments = splitEnvelope(
          payload,
          envelope.id ?? crypto.randomUUID(),
          envelope.topic,
          this.#maxNotifyBytes,
        );
        await this.#batcher.publish(fragments.map(() => FRAGMENT_CHANNEL), fragments, marks);
        // Counted once committed: what the health report calls sent went out.
        this.#fragmentedSent++;
        this.#fragmentsSent += fragments.length;
      } else {
        // Before it is sent: the notification may come back before the commit is answered.
        const kept = this.#own.keep(envelope, payload);
        try {
          await this.#batcher.publish(channelFor(envelope.topic, this.#options.notifyShards), payload, marks);
        } catch (error) {
          // Refused, or perhaps sent: should it come back after all, it is decoded as any other.
          if (kept) this.#own.forget(envelope.id!);
          throw error;
        }
      }
    } catch (error) {
      throw classifyNotifyError(error);
    }
  }

  #notify(channels: string[], payloads: string[]): NotifyStatement {
    const sql = this.#notifySql;
    let query: ReturnType<Sql["unsafe"]>;
    if (channels.length === 1) {
      query = sql`select pg_notify(${channels[0]}, ${payloads[0]})`;
    } else {
      // One statement, one commit, one pg_notify per event; NOTIFY keeps their order. The lists
      // go as JSON text (JSON.stringify escapes natively: 3-7x faster than building text[]
      // literals); `::text` first, or postgres.js would JSON-encode the string again for json.
      const c = JSON.stringify(channels);
      const p = JSON.stringify(payloads);
      query = sql`select pg_notify(c, p) from rows from (json_array_elements_text(${c}::text::json),
        json_array_elements_text(${p}::text::json)) with ordinality as t(c, p, n) order by n`;
    }
    // postgres.js sets a query's `state` (not in its typings) when it hands the query to an open
    // connection to write: until then the statement has not left, whatever happens to the
    // connection it waits for.
    const sent = () => (query as unknown as { state?: unknown }).state != null;
    return {
      // Once per statement: every publish it carried shares the one classified error.
      done: query.then(() => {}, (error) => {
        throw classifyNotifyError(error, sent());
      }),
      sent,
      withdraw: () => {
        // cancel() takes a query that is not on a connection out of postgres.js's queue, or marks
        // it so the connection it waits for skips it: either way it is never written.
        query.cancel();
        // A connection that skips its first query that way never reports itself ready (it
        // would sit out of the pool), and one that took this long to open is suspect anyway.
        if (sql === this.#notifySql && !this.#closing) this.#replaceNotifySql();
      },
    };
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

  /** UTF-8 bytes held for a large event being rebuilt from its fragments. */
  get heldBytes(): number {
    return this.#assembler.heldBytes;
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
      warnings: this.#warnings,
      fragments: {
        eventsSent: this.#fragmentedSent,
        sent: this.#fragmentsSent,
        eventsReceived: this.#assembler.completed,
        discarded: this.#assembler.discarded,
        heldBytes: this.#assembler.heldBytes,
      },
    };
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#stopQueueWatch?.();
    this.#stopQueueWatch = undefined;
    this.#wake?.();
    this.#connected = false;
    await Promise.allSettled([this.#listenSql.end({ timeout: 1 }), this.#notifySql.end({ timeout: 5 })]);
  }
}
