/**
 * Verifying a JWT once and remembering the answer: signature (jose, on Web Crypto), `exp`,
 * `nbf`, `aud`, `iss`, then the `ssepg` topic claim. Verified tokens are cached until they
 * expire, so a token costs one verification however often it is presented.
 *
 * @example
 * ```ts
 * import { SignJWT } from "jose";
 * import { resolveConfig } from "../../config/config.ts";
 * import { JwtVerifier } from "./verifier.ts";
 * const verifier = await JwtVerifier.create(resolveConfig({ overrides: { jwtSecret: "s3cret-s3cret-s3cret-s3cret-s3cret" } }));
 * const token = await new SignJWT({ ssepg: { subscribe: ["news"] } })
 *   .setProtectedHeader({ alg: "HS256" }).setExpirationTime("5m")
 *   .sign(new TextEncoder().encode("s3cret-s3cret-s3cret-s3cret-s3cret"));
 * const verified = await verifier!.verify(token);
 * verified.expiresAt > Date.now(); // true
 * ```
 *
 * @module
 */

import { jwtVerify } from "jose";
import type { Config } from "../../config/config.ts";
import { JwksUnavailableError, type RemoteJwksOptions } from "./jwks.ts";
import { type JwtKeys, loadJwtKeys } from "./keys.ts";
import { TokenCache } from "./token_cache.ts";
import { parseTopicClaims, type TopicGrants } from "./topic_claims.ts";

/**
 * The verified claims of a token, as the `authorize` hook receives them: the registered claims
 * (`sub`, `exp`, …), the `ssepg` claim and whatever else the issuer put in.
 *
 * @example
 * ```ts
 * import type { JwtClaims } from "./verifier.ts";
 * const userOf = (claims: JwtClaims | undefined) => claims?.sub;
 * ```
 */
export interface JwtClaims {
  /** Subject, usually the user id. */
  readonly sub?: string;
  /** Expiry, seconds since the epoch. */
  readonly exp?: number;
  /** Issuer. */
  readonly iss?: string;
  /** Audience. */
  readonly aud?: string | readonly string[];
  /** The topics the token grants. */
  readonly ssepg?: { readonly publish?: readonly string[]; readonly subscribe?: readonly string[] };
  /** Any other claim. */
  readonly [claim: string]: unknown;
}

/**
 * A token that passed verification.
 *
 * @example
 * ```ts
 * import type { VerifiedToken } from "./verifier.ts";
 * const secondsLeft = (t: VerifiedToken) => (t.expiresAt - Date.now()) / 1000;
 * ```
 */
export interface VerifiedToken {
  /** The payload, frozen. */
  readonly claims: JwtClaims;
  /** The topics it grants per action. */
  readonly grants: TopicGrants;
  /** Epoch ms of `exp`; Infinity for a token without one. */
  readonly expiresAt: number;
}

/**
 * Why a token was refused: `status` 401 for a token that is not valid (signature, expiry,
 * audience, issuer, algorithm, keys unavailable), 403 for a valid token whose `ssepg` claim has
 * the wrong shape.
 *
 * @example
 * ```ts
 * import { JwtRejectedError } from "./verifier.ts";
 * const error = new JwtRejectedError(401, "the token expired");
 * error.status; // 401
 * ```
 */
export class JwtRejectedError extends Error {
  /** 401 or 403. */
  readonly status: 401 | 403;

  /**
   * Creates the error.
   *
   * @param status 401 for an invalid token, 403 for a malformed `ssepg` claim.
   * @param reason What is wrong, for the problem detail.
   */
  constructor(status: 401 | 403, reason: string) {
    super(reason);
    this.name = "JwtRejectedError";
    this.status = status;
  }
}

/**
 * Options of {@link JwtVerifier.create}.
 *
 * @example
 * ```ts
 * import type { JwtVerifierOptions } from "./verifier.ts";
 * const options: JwtVerifierOptions = { cacheSize: 100, jwks: { timeout: 500 } };
 * ```
 */
export interface JwtVerifierOptions {
  /** Verified tokens remembered. @default DEFAULT_TOKEN_CACHE_SIZE */
  readonly cacheSize?: number;
  /** Tuning of the JWKS fetches. */
  readonly jwks?: RemoteJwksOptions;
}

/**
 * Verifies tokens against the configured keys, caching successes until their `exp`.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../../config/config.ts";
 * import { JwtVerifier } from "./verifier.ts";
 * const verifier = await JwtVerifier.create(resolveConfig({ overrides: { jwtSecret: "s3cret" } }));
 * await verifier!.verify("not.a.token").catch((e) => console.log(e.status)); // 401
 * ```
 */
export class JwtVerifier {
  readonly #keys: JwtKeys;
  readonly #audience: string | undefined;
  readonly #issuer: string | undefined;
  readonly #cache: TokenCache<VerifiedToken>;
  readonly #key: JwtKeys["key"];

  /**
   * Loads the keys of `config`; see {@link loadJwtKeys}.
   *
   * @param config The configuration.
   * @param options Cache size and JWKS tuning.
   * @returns The verifier, or undefined when no JWT key is configured.
   * @throws {ConfigError} for a key that cannot be used.
   */
  static async create(config: Config, options: JwtVerifierOptions = {}): Promise<JwtVerifier | undefined> {
    const keys = await loadJwtKeys(config, options.jwks);
    return keys && new JwtVerifier(keys, config, options);
  }

  /**
   * Use {@link JwtVerifier.create}, which loads the keys.
   *
   * @param keys The loaded keys.
   * @param config `jwtAudience` and `jwtIssuer`.
   * @param options The cache size.
   */
  constructor(
    keys: JwtKeys,
    config: Pick<Config, "jwtAudience" | "jwtIssuer">,
    options: JwtVerifierOptions = {},
  ) {
    this.#keys = keys;
    this.#key = (header, token) => keys.key(header, token);
    this.#audience = config.jwtAudience;
    this.#issuer = config.jwtIssuer;
    this.#cache = new TokenCache(options.cacheSize);
  }

  /** The accepted algorithms. */
  get algorithms(): readonly string[] {
    return this.#keys.algorithms;
  }

  /**
   * Starts fetching the JWKS (when one is configured) so that the first token does not wait
   * for it; a failure is only reported (`onError`) and retried when a token needs the keys.
   */
  prefetch(): void {
    this.#keys.jwks?.refresh().catch(() => {});
  }

  /**
   * The cached verification of `token` while it is valid: the hot path, no await.
   *
   * @param token The token text.
   * @param now The current time in epoch ms.
   * @returns The verified token, or undefined when it must be verified.
   */
  cached(token: string, now: number = Date.now()): VerifiedToken | undefined {
    return this.#cache.get(token, now);
  }

  /**
   * Verifies `token`, from the cache when it was verified before and has not expired.
   *
   * @param token The token text.
   * @returns The verified token.
   * @throws {JwtRejectedError} 401 when it is not valid, 403 when its `ssepg` claim is malformed.
   */
  async verify(token: string): Promise<VerifiedToken> {
    const hit = this.#cache.get(token, Date.now());
    if (hit) return hit;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: this.#keys.algorithms as string[],
        audience: this.#audience,
        issuer: this.#issuer,
      }));
    } catch (error) {
      throw new JwtRejectedError(401, rejection(error));
    }
    const grants = parseTopicClaims(payload);
    if ("error" in grants) throw new JwtRejectedError(403, `the token's claim ${grants.error}`);
    const expiresAt = typeof payload.exp === "number" ? payload.exp * 1000 : Infinity;
    const verified: VerifiedToken = Object.freeze({ claims: Object.freeze(payload), grants, expiresAt });
    this.#cache.set(token, verified, expiresAt);
    return verified;
  }
}

/** A short reason for the problem detail, from jose's error codes. */
function rejection(error: unknown): string {
  if (error instanceof JwksUnavailableError) return "the signing keys are unavailable (the JWKS could not be fetched)";
  const { code, claim, message } = error as { code?: string; claim?: string; message?: string };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "the token expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claim === "nbf"
        ? "the token is not valid yet (nbf)"
        : claim === "aud"
        ? "the token is not meant for this server (aud)"
        : claim === "iss"
        ? "the token is not from the accepted issuer (iss)"
        : `the token's ${claim ?? "claims"} claim is not valid`;
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "the token's algorithm is not accepted";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the token's signature does not verify";
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "no signing key matches the token (kid)";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "the token is malformed";
    default:
      // Web Crypto errors for a key that does not fit the token, and the key function's own.
      return `the token could not be verified${message ? ` (${message.slice(0, 100)})` : ""}`;
  }
}
