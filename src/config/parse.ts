/**
 * Parsing one option's value by its kind: text from env and flags, or a library value, into the
 * value the configuration holds, checked against the option's bounds.
 *
 * @module
 */

import { invalidValue } from "./config_error.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import type { OptionSpec, OptionValues } from "./options.ts";

const PATH = /^\/[A-Za-z0-9._~\-/]*$/;
const ORIGIN = /^https?:\/\/[^/\s,]+$/;

/**
 * Parses `value` for `spec` and checks its bounds (rules are checked later, with every field).
 *
 * @param spec The option.
 * @param value Text from env or flags, or a library value.
 * @param origin Where the value came from, for the error: a flag, an env name, or `config`.
 * @returns The parsed value.
 * @throws {ConfigError} naming the option, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { parseOptionValue } from "./parse.ts";
 * import { OPTIONS } from "./options.ts";
 * const keepAlive = OPTIONS.find((o) => o.name === "keepAlive")!;
 * parseOptionValue(keepAlive, "15s", "--keep-alive"); // 15000
 * ```
 */
export function parseOptionValue(spec: OptionSpec, value: unknown, origin: string): OptionValues[OptionSpec["kind"]] {
  const fail = (allowed: string) => invalidValue(spec, value, allowed, origin);
  switch (spec.kind) {
    case "bool": {
      if (typeof value === "boolean") return value;
      const text = String(value).trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(text)) return true;
      if (["0", "false", "no", "off"].includes(text)) return false;
      throw fail("true or false");
    }
    case "int":
    case "port":
    case "float":
    case "duration": {
      const allowed = describeNumber(spec);
      let n: number | undefined;
      if (typeof value === "number") n = value;
      else if (typeof value === "string" && value.trim() !== "") {
        n = spec.kind === "duration" ? parseDuration(value) : Number(value.trim());
      }
      if (n === undefined || !Number.isFinite(n)) throw fail(allowed);
      if (spec.kind !== "float" && !Number.isInteger(n)) throw fail(allowed);
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) throw fail(allowed);
      return n;
    }
    case "path": {
      if (typeof value !== "string") throw fail("a path such as /topics");
      const path = value.length > 1 ? value.replace(/\/+$/, "") : value;
      if (!PATH.test(path) || path === "/" || path.includes("//")) throw fail("a path such as /topics");
      return path;
    }
    case "url": {
      if (typeof value !== "string") throw fail("a postgres:// URL");
      const text = value.trim();
      if (!/^postgres(ql)?:\/\/.+/.test(text)) throw fail("a postgres:// or postgresql:// URL");
      // What the driver would refuse later with a bare "Invalid URL" (a port over 65535, a space
      // in the host): refused here, naming the option, with the password hidden.
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw fail("a postgres:// URL with a valid host and a port from 1 to 65535");
      }
      if (url.port === "0") throw fail("a postgres:// URL with a valid host and a port from 1 to 65535");
      return text;
    }
    case "origins": {
      const list = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value.map(String) : undefined;
      const origins = list?.map((o) => o.trim().replace(/\/+$/, "")).filter((o) => o !== "");
      if (!origins || origins.length === 0) throw fail("* or a comma list of origins such as https://app.example.com");
      if (origins.includes("*")) {
        if (origins.length > 1) throw fail("* alone, or a list of origins");
        return Object.freeze(["*"]);
      }
      for (const o of origins) {
        if (!ORIGIN.test(o)) throw fail("* or a comma list of origins such as https://app.example.com");
      }
      return Object.freeze(origins.map((o) => o.toLowerCase()));
    }
    case "string": {
      if (typeof value !== "string" || value === "") throw fail("a non-empty string");
      return value;
    }
  }
}

function describeNumber(spec: OptionSpec): string {
  const range = (f: (n: number) => string) => `${f(spec.min ?? 0)}-${f(spec.max ?? Number.MAX_SAFE_INTEGER)}`;
  switch (spec.kind) {
    case "duration":
      return `a duration such as 250ms, 15s or 10m (a plain number is milliseconds), within ${range(formatDuration)}`;
    case "float":
      return `a number within ${range(String)}`;
    default:
      return `a whole number within ${range(String)}`;
  }
}
