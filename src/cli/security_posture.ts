/**
 * The startup security posture lines (what is protected, what is open).
 *
 * @module
 */

import type { Config } from "../config/config.ts";

/**
 * Lines describing what is protected and what is open, ending with a count.
 *
 * @param config The configuration.
 * @returns Lines to log at startup, each starting with `ssepg: `.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "../config/config.ts";
 * import { securityPosture } from "./security_posture.ts";
 * securityPosture(resolveConfig({ overrides: { publishToken: "p", listenToken: "l" } }));
 * // ["ssepg: ✅ Full authentication enabled (publish + subscribe)", …]
 * ```
 */
export function securityPosture(config: Config): string[] {
  const good: string[] = [];
  const warn: string[] = [];
  const jwt = config.jwtSecret || config.jwtPublicKey || config.jwtJwksUrl;
  if (jwt) {
    const keys = [config.jwtSecret && "secret", config.jwtPublicKey && "public key", config.jwtJwksUrl && "JWKS"];
    good.push(
      `JWT authorization enabled (${keys.filter(Boolean).join(" + ")}): every publish and stream needs a token`,
    );
    if (config.healthPort === undefined) good.push("Topic names in health hidden from requests without full access");
    if (config.jwtSecret && new TextEncoder().encode(config.jwtSecret).byteLength < 32) {
      warn.push("jwtSecret is shorter than 32 bytes (HS256 wants at least 256 bits)");
    }
    if (config.jwtCookie && config.corsOrigins?.includes("*")) {
      warn.push("jwtCookie with CORS origin *: browsers send no cookies cross-origin without listed origins");
    }
  } else if (config.publishToken && config.listenToken) good.push("Full authentication enabled (publish + subscribe)");
  else {
    if (config.publishToken) good.push("Publish authentication enabled");
    else warn.push("Publish endpoints are UNAUTHENTICATED");
    if (config.listenToken) good.push("Subscribe authentication enabled");
    else warn.push("Subscribe endpoints are UNAUTHENTICATED");
  }
  if (config.allowQueryToken && (config.publishToken || config.listenToken)) {
    warn.push("Tokens accepted in ?access_token= (they may appear in access logs)");
  }
  if (config.healthPort === undefined) warn.push("Health metrics exposed on main port");
  else good.push(`Health metrics on separate port ${config.healthPort}`);
  if (config.corsOrigins?.includes("*")) warn.push("CORS allows any origin");
  else if (config.corsOrigins) good.push(`CORS restricted to ${config.corsOrigins.length} origin(s)`);
  return [
    ...good.map((line) => `ssepg: ✅ ${line}`),
    ...warn.map((line) => `ssepg: ⚠️  ${line}`),
    `ssepg: security features active (${good.length} enabled, ${warn.length} warnings)`,
  ];
}
