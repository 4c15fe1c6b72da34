/**
 * `test(name, fn)` for suites that run under both `deno test` and `bun test`.
 *
 * @module
 */

type TestFn = () => void | Promise<void>;
type Register = (name: string, fn: TestFn) => void;

const deno = (globalThis as { Deno?: { test(name: string, fn: TestFn): void } }).Deno;

async function bunTest(): Promise<Register> {
  // A computed specifier keeps Deno's type checker from resolving Bun's built-in module.
  const specifier = ["bun", "test"].join(":");
  const { test } = await import(specifier) as { test: Register };
  return test;
}

/**
 * Registers a test with the runner of the current runtime.
 *
 * @example
 * ```ts
 * import { test } from "./test.ts";
 * test("adds", () => {});
 * ```
 */
export const test: Register = deno ? (name, fn) => deno.test(name, fn) : await bunTest();
