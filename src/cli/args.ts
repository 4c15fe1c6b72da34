/**
 * Command-line parsing for `ssepg`: a command, positionals and `--flag value` / `--flag=value`.
 *
 * @module
 */

/** A flag the parser knows. */
export interface FlagSpec {
  /** `--name`. */
  readonly flag: string;
  /** Key in the parsed flags. */
  readonly key: string;
  /** Booleans take no value (`--x`, `--x=false`, `--x false`). */
  readonly bool?: boolean;
}

/** The parsed command line. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Record<string, string | boolean>;
  readonly help: boolean;
  readonly version: boolean;
}

/**
 * Bad usage: an unknown flag, a missing value, a missing argument.
 *
 * @example
 * ```ts
 * import { UsageError } from "./args.ts";
 * throw new UsageError("Flag --port needs a value");
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const BOOL = /^(true|false|1|0|yes|no|on|off)$/i;

/** Short spellings of long flags, as servers commonly take them. */
const SHORT_FLAGS: Readonly<Record<string, string>> = { "-p": "--port" };

/**
 * Parses `args` against `specs`.
 *
 * @param args Arguments after the program name.
 * @param specs The flags allowed here.
 * @returns Positionals and flags by key.
 * @throws {UsageError} for an unknown flag or a flag without its value.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * parseArgs(["serve", "--port=9000"], [{ flag: "--port", key: "port" }]);
 * // { positionals: ["serve"], flags: { port: "9000" }, help: false, version: false }
 * ```
 */
export function parseArgs(args: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  let help = false;
  let version = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") help = true;
    else if (arg === "--version" || arg === "-V") version = true;
    else if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      const spec = byFlag.get(flag);
      if (!spec) throw new UsageError(`Unknown flag ${flag}; see ssepg --help`);
      if (eq >= 0) flags[spec.key] = arg.slice(eq + 1);
      else if (spec.bool) flags[spec.key] = BOOL.test(args[i + 1] ?? "") ? args[++i] : true;
      else if (i + 1 >= args.length) throw new UsageError(`Flag ${flag} needs a value`);
      else flags[spec.key] = args[++i];
    } else if (arg.length > 1 && arg.startsWith("-") && !/^-\d/.test(arg)) {
      // One short flag, -p; anything else that looks like a flag is a wrong flag, not a command.
      const spec = byFlag.get(SHORT_FLAGS[arg] ?? "");
      if (!spec) throw new UsageError(`Unknown flag ${arg}; see ssepg --help`);
      if (i + 1 >= args.length) throw new UsageError(`Flag ${arg} needs a value`);
      flags[spec.key] = args[++i];
    } else positionals.push(arg);
  }
  return { positionals, flags, help, version };
}
