/**
 * Signing keys from a JWKS URL (`jwtJwksUrl`): fetched once, cached, refreshed when a token
 * names a key the cached set lacks (key rotation) and when the set is older than its maximum
 * age. Every fetch is bounded (a timeout per attempt, a fixed number of attempts), concurrent
 * callers share one fetch, and after a failed fetch the next ones fail at once for a moment, so
 * a JWKS outage answers 401 quickly instead of holding requests.
 *
 * @example
 * ```ts
 * import { RemoteJwks } from "./jwks.ts";
 * const jwks = new RemoteJwks("https://issuer.example/.well-known/jwks.json");
 * // jose's jwtVerify(token, (header, token) => jwks.key(header, token), { algorithms: ["RS256"] })
 * ```
 *
 * @module
 */

import { shownUrl } from "../../shown_url.ts";
import { createLocalJWKSet, type FlattenedJWSInput, type JWSHeaderParameters, type LocalJWKSet } from "jose";

/**
 * Tuning of {@link RemoteJwks}; the defaults suit production.
 *
 * @example
 * ```ts
 * import type { RemoteJwksOptions } from "./jwks.ts";
 * const fast: RemoteJwksOptions = { timeout: 500, attempts: 1 };
 * ```
 */
export interface RemoteJwksOptions {
  /** Time allowed to one fetch (headers and body), in ms. @default 2000 */
  readonly timeout?: number;
  /** Fetches tried before a refresh fails. @default 2 */
  readonly attempts?: number;
  /** Pause between attempts, in ms. @default 100 */
  readonly retryDelay?: number;
  /**
   * Least time between two fetches caused by a token whose key is unknown, in ms: tokens
   * naming made-up key ids cannot make the server hammer the JWKS endpoint. @default 1000
   */
  readonly refreshCooldown?: number;
  /** A fetched set is fetched again after this long (keys removed upstream disappear). @default 600000 */
  readonly maxAge?: number;
  /** After a failed refresh, further ones fail at once for this long, in ms. @default 1000 */
  readonly failureHold?: number;
  /** The largest JWKS body accepted, in bytes. @default 1048576 */
  readonly maxBytes?: number;
  /** Called with a one-line message when a refresh fails. */
  readonly onError?: (message: string) => void;
  /** The fetch to use (tests). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The keys could not be fetched: the JWKS endpoint is down, slow or answers something else
 * than a key set.
 *
 * @example
 * ```ts
 * import { JwksUnavailableError } from "./jwks.ts";
 * const error = new JwksUnavailableError("connection refused");
 * error.message; // "Cannot fetch the signing keys from jwtJwksUrl: connection refused"
 * ```
 */
export class JwksUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param reason Why the last attempt failed.
   */
  constructor(reason: string) {
    super(`Cannot fetch the signing keys from jwtJwksUrl: ${reason}`);
    this.name = "JwksUnavailableError";
  }
}

/**
 * A cached remote key set with bounded, shared, rate-limited refreshes.
 *
 * @example
 * ```ts
 * import { RemoteJwks } from "./jwks.ts";
 * const jwks = new RemoteJwks("http://127.0.0.1:9/jwks.json", { attempts: 1, timeout: 200 });
 * await jwks.key({ alg: "RS256", kid: "k1" }).catch((e) => console.log(e.name)); // JwksUnavailableError
 * ```
 */
export class RemoteJwks {
  readonly #url: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #retryDelay: number;
  readonly #refreshCooldown: number;
  readonly #maxAge: number;
  readonly #failureHold: number;
  readonly #maxBytes: number;
  readonly #onError: ((message: string) => void) | undefined;
  readonly #fetch: typeof fetch;
  #keys: LocalJWKSet | undefined;
  #fetchedAt = -Infinity;
  #failedAt = -Infinity;
  #failure: JwksUnavailableError | undefined;
  #pending: Promise<void> | undefined;
  #fetches = 0;

  /**
   * Prepares the set; nothing is fetched until {@link RemoteJwks.key} or
   * {@link RemoteJwks.refresh} asks.
   *
   * @param url The JWKS URL.
   * @param options Timeouts, attempts and cache ages.
   */
  constructor(url: string, options: RemoteJwksOptions = {}) {
    this.#url = url;
    this.#timeout = options.timeout ?? 2_000;
    this.#attempts = Math.max(1, options.attempts ?? 2);
    this.#retryDelay = options.retryDelay ?? 100;
    this.#refreshCooldown = options.refreshCooldown ?? 1_000;
    this.#maxAge = options.maxAge ?? 600_000;
    this.#failureHold = options.failureHold ?? 1_000;
    this.#maxBytes = options.maxBytes ?? 1_048_576;
    this.#onError = options.onError;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** How many fetches were started so far (tests, diagnostics). */
  get fetches(): number {
    return this.#fetches;
  }

  /**
   * The key a token's header names. A set older than its maximum age is fetched again in the
   * background (the old one serves meanwhile, and stays if that fails); an unknown key id
   * fetches the set again, and waits for it, unless that happened within the refresh cooldown.
   *
   * @param header The token's protected header.
   * @param token The token, as jose passes it to a key function.
   * @returns The verification key.
   * @throws {JwksUnavailableError} when no key set could be fetched; jose's `JWKSNoMatchingKey`
   *   when the fetched set has no key for the token.
   */
  async key(header?: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey> {
    if (this.#keys === undefined) await this.refresh();
    // A set past its age is refreshed in the background: this token uses the keys at hand, and
    // a failed refresh keeps them (it is reported through onError and retried after the hold).
    else if (Date.now() - this.#fetchedAt > this.#maxAge) this.refresh().catch(() => {});
    try {
      return await this.#keys!(header, token);
    } catch (error) {
      if ((error as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY") throw error;
      if (Date.now() - this.#fetchedAt < this.#refreshCooldown) throw error;
      await this.refresh();
      return this.#keys!(header, token);
    }
  }

  /**
   * Fetches the set now, or joins the fetch under way; fails at once while a recent failure is
   * held.
   *
   * @returns When the set is fresh.
   * @throws {JwksUnavailableError} when every attempt failed.
   */
  refresh(): Promise<void> {
    if (this.#pending) return this.#pending;
    if (this.#failure && Date.now() - this.#failedAt < this.#failureHold) return Promise.reject(this.#failure);
    this.#pending = this.#load().finally(() => this.#pending = undefined);
    return this.#pending;
  }

  async #load(): Promise<void> {
    let reason = "no attempt made";
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, this.#retryDelay));
      try {
        this.#fetches++;
        this.#keys = createLocalJWKSet(await this.#fetchSet());
        this.#fetchedAt = Date.now();
        this.#failure = undefined;
        return;
      } catch (error) {
        reason = describeFailure(error, this.#timeout);
      }
    }
    // The URL may carry credentials: logs get it without them.
    this.#failure = new JwksUnavailableError(
      `${reason.replaceAll(this.#url, shownUrl(this.#url))} (${shownUrl(this.#url)}, ${this.#attempts} attempt(s))`,
    );
    this.#failedAt = Date.now();
    this.#onError?.(this.#failure.message);
    throw this.#failure;
  }

  async #fetchSet(): Promise<{ keys: Record<string, unknown>[] }> {
    const response = await this.#fetch(this.#url, {
      headers: { accept: "application/json, application/jwk-set+json" },
      signal: AbortSignal.timeout(this.#timeout),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const length = Number(response.headers.get("content-length") ?? 0);
    if (length > this.#maxBytes) {
      await response.body?.cancel();
      throw new Error(`the key set is ${length} bytes, more than ${this.#maxBytes}`);
    }
    // Read piece by piece and stop at the cap: without Content-Length, response.text() would
    // buffer whatever a hostile or broken endpoint streams (gigabytes) before any check.
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.#maxBytes) {
          await reader.cancel().catch(() => {});
          throw new Error(`the key set is more than ${this.#maxBytes} bytes`);
        }
        chunks.push(value);
      }
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return JSON.parse(new TextDecoder().decode(bytes));
  }
}

function describeFailure(error: unknown, timeout: number): string {
  const name = (error as { name?: string }).name;
  if (name === "TimeoutError" || name === "AbortError") return `no answer within ${timeout}ms`;
  if (error instanceof SyntaxError) return "the answer is not JSON";
  let message = error instanceof Error ? error.message : String(error);
  // Node's and Deno's fetch say "fetch failed" / "error sending request" and put the reason in `cause`.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code || cause?.message) message += ` (${cause.code ?? cause.message})`;
  return (error as { code?: string }).code === "ERR_JWKS_INVALID" ? `not a key set (${message})` : message;
}
