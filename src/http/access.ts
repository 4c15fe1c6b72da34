/**
 * Who may publish and subscribe to which topics: the static tokens (`publishToken`,
 * `listenToken`) and JWTs whose `ssepg` claim grants the topics. One decision per request,
 * made by the handler before the `authorize` hook.
 *
 * - Without a JWT key: the static tokens as they always were (an unset token leaves its action
 *   open).
 * - With a JWT key: every publish and every stream needs a token. A request carrying the
 *   action's static token passes as before; any other token must be a valid JWT (401 otherwise)
 *   that grants every topic of the request (403 otherwise).
 * - Tokens come from `Authorization: Bearer`, then `?access_token=` when `allowQueryToken` is
 *   on (streams only), then the `jwtCookie` cookie (streams only: a cookie rides along on
 *   cross-site requests, so it never authorizes a publish).
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config/config.ts";
 * import { Access } from "./access.ts";
 * const access = new Access(resolveConfig({ overrides: { listenToken: "l" } }), undefined);
 * const grant = await access.check(
 *   { headers: new Headers({ authorization: "Bearer l" }), query: "" },
 *   "listen",
 *   ["alpha"],
 * );
 * grant.expiresAt; // Infinity
 * ```
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import { requestToken, requireToken, tokensEqual } from "./auth.ts";
import { cookieValue } from "./cookie.ts";
import { covers, type TopicPatterns } from "./jwt/topic_claims.ts";
import { type JwtClaims, JwtRejectedError, type JwtVerifier, type VerifiedToken } from "./jwt/verifier.ts";
import { HttpProblem } from "./problem.ts";
import type { RequestHead } from "./request_head.ts";

/**
 * What a request was allowed with.
 *
 * @example
 * ```ts
 * import type { Grant } from "./access.ts";
 * const endsAt = (grant: Grant) => Number.isFinite(grant.expiresAt) ? new Date(grant.expiresAt) : "never";
 * ```
 */
export interface Grant {
  /** The verified claims when a JWT allowed the request; undefined for static tokens and open access. */
  readonly claims: JwtClaims | undefined;
  /** Epoch ms at which the access ends (the JWT's `exp`); Infinity when it does not. */
  readonly expiresAt: number;
}

/** The parts of a request the decision reads. */
type TokenSource = Pick<RequestHead, "headers" | "query">;

const UNLIMITED: Grant = Object.freeze({ claims: undefined, expiresAt: Infinity });

/**
 * The access rules of one instance.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config/config.ts";
 * import { Access } from "./access.ts";
 * const access = new Access(resolveConfig(), undefined);
 * access.protected; // false: no token configured
 * ```
 */
export class Access {
  readonly #config: Config;
  readonly #verifier: JwtVerifier | undefined;

  /**
   * Creates the rules.
   *
   * @param config Tokens, `allowQueryToken` and `jwtCookie`.
   * @param verifier The JWT verifier, when a JWT key is configured.
   */
  constructor(config: Config, verifier: JwtVerifier | undefined) {
    this.#config = config;
    this.#verifier = verifier;
  }

  /** Whether any authentication is configured (then topic names in health are hidden). */
  get protected(): boolean {
    return this.#verifier !== undefined || this.#config.publishToken !== undefined ||
      this.#config.listenToken !== undefined;
  }

  /**
   * Decides one publish or stream.
   *
   * @param head The request.
   * @param action `publish` or `listen`.
   * @param topics The normalised topics of the request.
   * @returns The grant (synchronously when no JWT needs verifying).
   * @throws {HttpProblem} 401 with `WWW-Authenticate: Bearer` for a missing or invalid token, 403
   *   for a valid JWT that does not grant every topic.
   */
  check(head: TokenSource, action: "publish" | "listen", topics: readonly string[]): Grant | Promise<Grant> {
    const config = this.#config;
    const staticToken = action === "publish" ? config.publishToken : config.listenToken;
    const verifier = this.#verifier;
    if (!verifier) {
      requireToken(head, staticToken, action === "listen" && config.allowQueryToken, action);
      return UNLIMITED;
    }
    const token = this.#token(head, action);
    if (token === undefined) throw unauthorized(action, undefined);
    if (staticToken !== undefined && tokensEqual(token, staticToken)) return UNLIMITED;
    const hit = verifier.cached(token);
    if (hit) return grantFor(hit, action, topics);
    return verifier.verify(token).then(
      (verified) => grantFor(verified, action, topics),
      (error) => {
        throw toProblem(error, action);
      },
    );
  }

  /**
   * Whether the request may see topic names in the health report of the main port: always when
   * no authentication is configured; else with the listen or publish token, or a JWT whose
   * `subscribe` claim is `*`. Never throws: a request without that right gets the report without
   * topics.
   *
   * @param head The request.
   * @returns True when topic names may be shown.
   */
  async seesTopicNames(head: TokenSource): Promise<boolean> {
    if (!this.protected) return true;
    const token = this.#token(head, "listen");
    if (token === undefined) return false;
    const { publishToken, listenToken } = this.#config;
    if (listenToken !== undefined && tokensEqual(token, listenToken)) return true;
    if (publishToken !== undefined && tokensEqual(token, publishToken)) return true;
    if (!this.#verifier) return false;
    try {
      return (await this.#verifier.verify(token)).grants.subscribe.all;
    } catch {
      return false;
    }
  }

  /** The request's token: the header, then the query (if allowed), then the cookie (streams only). */
  #token(head: TokenSource, action: "publish" | "listen"): string | undefined {
    const config = this.#config;
    if (action === "publish") return requestToken(head, false);
    const token = requestToken(head, config.allowQueryToken);
    if (token !== undefined || config.jwtCookie === undefined) return token;
    // A Bearer header the client sent is its answer, even malformed: no cookie fallback. Other
    // schemes (Basic, from a proxy's login) are passed over, as requestToken does.
    if (/^bearer(?:[ \t]|$)/i.test(head.headers.get("authorization") ?? "")) return undefined;
    return cookieValue(head.headers.get("cookie"), config.jwtCookie);
  }
}

function grantFor(verified: VerifiedToken, action: "publish" | "listen", topics: readonly string[]): Grant {
  const patterns: TopicPatterns = action === "publish" ? verified.grants.publish : verified.grants.subscribe;
  if (!covers(patterns, topics)) {
    const missing = topics.filter((t) => !covers(patterns, [t]));
    const verb = action === "publish" ? "publish" : "subscribe";
    throw new HttpProblem(
      403,
      "forbidden",
      "Forbidden",
      `The token does not grant ${verb} on ${missing.join(",")} (its ssepg.${verb} claim lists the topics it may)`,
      { "WWW-Authenticate": 'Bearer realm="ssepg", error="insufficient_scope"' },
    );
  }
  return verified;
}

function toProblem(error: unknown, action: "publish" | "listen"): unknown {
  if (!(error instanceof JwtRejectedError)) return error;
  if (error.status === 403) {
    return new HttpProblem(403, "forbidden", "Forbidden", `The token cannot ${action}: ${error.message}`, {
      "WWW-Authenticate": 'Bearer realm="ssepg", error="insufficient_scope"',
    });
  }
  return unauthorized(action, error.message);
}

function unauthorized(action: "publish" | "listen", reason: string | undefined): HttpProblem {
  return new HttpProblem(
    401,
    "unauthorized",
    "Unauthorized",
    reason === undefined
      ? `A bearer token is required to ${action}`
      : `The bearer token is not valid to ${action}: ${reason}`,
    {
      "WWW-Authenticate": reason === undefined ? 'Bearer realm="ssepg"' : 'Bearer realm="ssepg", error="invalid_token"',
    },
  );
}
