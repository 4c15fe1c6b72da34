/**
 * The keys JWTs are verified with, loaded once at startup from `jwtSecret`, `jwtPublicKey` and
 * `jwtJwksUrl`, and the algorithms they accept. A key that cannot be used is a configuration
 * error naming its option, raised before the server listens.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../../config/config.ts";
 * import { loadJwtKeys } from "./keys.ts";
 * const keys = await loadJwtKeys(resolveConfig({ overrides: { jwtSecret: "a long random secret" } }));
 * keys?.algorithms; // ["HS256", "HS384", "HS512"]
 * ```
 *
 * @module
 */

import { type FlattenedJWSInput, importSPKI, importX509, type JWSHeaderParameters } from "jose";
import type { Config } from "../../config/config.ts";
import { invalidValue } from "../../config/config_error.ts";
import { JWT_ALGORITHMS, OPTIONS, pemText } from "../../config/options.ts";
import { RemoteJwks, type RemoteJwksOptions } from "./jwks.ts";

/**
 * The verification keys of one instance.
 *
 * @example
 * ```ts
 * import type { JwtKeys } from "./keys.ts";
 * const accepts = (keys: JwtKeys, alg: string) => keys.algorithms.includes(alg);
 * ```
 */
export interface JwtKeys {
  /** The accepted `alg` values: `jwtAlgorithms`, or every algorithm of the configured keys. */
  readonly algorithms: readonly string[];
  /** The remote key set, when `jwtJwksUrl` is set. */
  readonly jwks: RemoteJwks | undefined;
  /**
   * The key for a token's header: the secret for HS*; else the JWKS key when the header names a
   * `kid` (or no PEM key fits), else the PEM key. jose calls it only for algorithms in
   * {@link JwtKeys.algorithms}.
   */
  key(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey | Uint8Array>;
}

const HMAC = ["HS256", "HS384", "HS512"];
const ASYMMETRIC = JWT_ALGORITHMS.filter((a) => !HMAC.includes(a));
/** jose refuses RSA keys below this size when verifying; refusing them at startup says why. */
const MIN_RSA_BITS = 2048;

/**
 * Loads the configured keys: the secret's UTF-8 bytes, the PEM key imported for each algorithm
 * it can verify, the JWKS prepared (it is fetched on first use).
 *
 * @param config The configuration.
 * @param jwksOptions Tuning of the JWKS fetches (tests).
 * @returns The keys, or undefined when no JWT key is configured.
 * @throws {ConfigError} for a public key that cannot be imported or does not fit `jwtAlgorithms`.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../../config/config.ts";
 * import { loadJwtKeys } from "./keys.ts";
 * await loadJwtKeys(resolveConfig()); // undefined: no JWT configured
 * ```
 */
export async function loadJwtKeys(config: Config, jwksOptions?: RemoteJwksOptions): Promise<JwtKeys | undefined> {
  const { jwtSecret, jwtPublicKey, jwtJwksUrl } = config;
  if (!jwtSecret && !jwtPublicKey && !jwtJwksUrl) return undefined;
  const wanted = config.jwtAlgorithms?.split(",").map((a) => a.trim()).filter((a) => a !== "");
  const secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : undefined;
  const publicKeys = jwtPublicKey
    ? await importPublicKey(jwtPublicKey, wanted?.filter((a) => !HMAC.includes(a)))
    : undefined;
  const jwks = jwtJwksUrl ? new RemoteJwks(jwtJwksUrl, jwksOptions) : undefined;
  const algorithms = wanted ?? [
    ...(secret ? HMAC : []),
    ...(publicKeys ? publicKeys.keys() : []),
    ...(jwks ? ASYMMETRIC : []),
  ];
  return {
    algorithms: Object.freeze(algorithms),
    jwks,
    key(header, token) {
      const alg = header.alg ?? "";
      if (HMAC.includes(alg)) {
        // Only reached when an HS algorithm is accepted, which the options allow only with a secret.
        if (secret) return Promise.resolve(secret);
      } else {
        // PEM keys have no id; a token naming one was signed with a key of the set.
        const key = header.kid === undefined || !jwks ? publicKeys?.get(alg) : undefined;
        if (key) return Promise.resolve(key);
        if (jwks) return jwks.key(header, token);
      }
      return Promise.reject(new TypeError(`No key is configured for alg ${JSON.stringify(alg)}`));
    },
  };
}

/**
 * Imports the PEM key once for each algorithm it can verify (Web Crypto binds a key to one
 * algorithm), or for each of `wanted`, every one of which must fit.
 */
async function importPublicKey(value: string, wanted: string[] | undefined): Promise<Map<string, CryptoKey>> {
  const spec = OPTIONS.find((o) => o.name === "jwtPublicKey")!;
  const text = pemText(value).trim();
  const importer = text.includes("-----BEGIN CERTIFICATE-----") ? importX509 : importSPKI;
  const keys = new Map<string, CryptoKey>();
  for (const alg of wanted ?? ASYMMETRIC) {
    try {
      keys.set(alg, await importer(text, alg));
    } catch {
      if (wanted) {
        throw invalidValue(spec, value, `a key for every algorithm of jwtAlgorithms: it cannot verify ${alg}`);
      }
    }
  }
  if (keys.size === 0) {
    throw invalidValue(
      spec,
      value,
      "a PEM public key (-----BEGIN PUBLIC KEY-----) or X.509 certificate of an RSA, EC (P-256, P-384, P-521) " +
        "or Ed25519 key: this one could not be imported",
    );
  }
  const modulus = (keys.values().next().value!.algorithm as { modulusLength?: number }).modulusLength;
  if (modulus !== undefined && modulus < MIN_RSA_BITS) {
    throw invalidValue(spec, value, `an RSA key of at least ${MIN_RSA_BITS} bits: this one has ${modulus}`);
  }
  return keys;
}
