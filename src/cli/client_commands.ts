/**
 * `ssepg publish` and `ssepg subscribe`: the client side, for scripts and debugging.
 *
 * @module
 */

import { ConnectionError } from "../client/errors.ts";
import { publish } from "../client/publish.ts";
import { subscribe } from "../client/subscribe.ts";
import { UsageError } from "./args.ts";
import type { CliIo } from "./io.ts";

/** Flags of the client commands. */
export const CLIENT_FLAGS = [
  { flag: "--url", key: "url" },
  { flag: "--token", key: "token" },
  { flag: "--base-path", key: "basePath" },
  { flag: "--last-event-id", key: "lastEventId" },
] as const;

interface ClientOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly basePath: string | undefined;
}

function clientOptions(io: CliIo, flags: Record<string, string | boolean>): ClientOptions {
  const url = String(flags.url ?? io.env.SSEPG_URL ?? "http://127.0.0.1:8080");
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new UsageError(`--url must be an http(s) URL: current value is ${JSON.stringify(url)}`);
  }
  const token = flags.token ?? io.env.SSEPG_TOKEN;
  return {
    url,
    token: token === undefined || token === "" ? undefined : String(token),
    basePath: flags.basePath === undefined ? undefined : String(flags.basePath),
  };
}

/**
 * `ssepg publish <topic> <json>`: prints the server's answer.
 *
 * @returns 0 when published, 1 when the server refused or was unreachable.
 * @throws {UsageError} for missing arguments or data that is not JSON.
 *
 * @example
 * ```ts
 * // await publishCommand(processIo(), ["alpha", '{"msg":"hi"}'], {});
 * ```
 */
export async function publishCommand(
  io: CliIo,
  args: string[],
  flags: Record<string, string | boolean>,
): Promise<number> {
  if (args.length !== 2) throw new UsageError("Usage: ssepg publish <topic> <json>");
  if (flags.lastEventId !== undefined) throw new UsageError("--last-event-id is for subscribe");
  let data: unknown;
  try {
    data = JSON.parse(args[1]);
  } catch {
    throw new UsageError(
      `The data must be JSON (quote a string as '"text"'): current value is ${JSON.stringify(args[1])}`,
    );
  }
  const options = clientOptions(io, flags);
  try {
    io.stdout(JSON.stringify(await publish(options.url, args[0], data, options)));
    return 0;
  } catch (error) {
    io.stderr(
      error instanceof ConnectionError
        ? `ssepg: cannot reach ${options.url}: ${error.reason}`
        : `ssepg: publish failed: ${(error as Error).message}`,
    );
    return 1;
  }
}

/**
 * `ssepg subscribe <topic>...`: prints each event as a JSON line `{"id","event","data"}` until
 * SIGINT or SIGTERM, reconnecting with `Last-Event-ID`.
 *
 * @returns 0 when stopped by a signal, 1 when the server refuses the subscription.
 *
 * @example
 * ```ts
 * // await subscribeCommand(processIo(), ["alpha"], {});
 * ```
 */
export async function subscribeCommand(
  io: CliIo,
  args: string[],
  flags: Record<string, string | boolean>,
): Promise<number> {
  if (args.length === 0) throw new UsageError("Usage: ssepg subscribe <topic>...");
  const options = clientOptions(io, flags);
  const stop = new AbortController();
  const off = io.onStopSignal(() => stop.abort());
  try {
    await subscribe({ baseUrl: options.url, basePath: options.basePath, topics: args.flatMap((a) => a.split(",")) }, {
      token: options.token,
      lastEventId: flags.lastEventId === undefined ? undefined : String(flags.lastEventId),
      signal: stop.signal,
      parse: (text) => {
        try {
          return JSON.parse(text);
        } catch {
          return text; // not JSON: print the text
        }
      },
      onEvent: (event) => io.stdout(JSON.stringify({ id: event.id ?? null, event: event.event, data: event.data })),
      onGap: (gap) => io.stdout(JSON.stringify({ id: null, event: "gap", data: gap })),
      onReconnect: ({ delay, reason }) => io.stderr(`ssepg: ${reason}; reconnecting in ${delay} ms`),
    }).done;
    return 0;
  } catch (error) {
    io.stderr(`ssepg: subscribe failed: ${(error as Error).message}`);
    return 1;
  } finally {
    off();
  }
}
