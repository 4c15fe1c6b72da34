/**
 * The ssepg version (kept equal to package.json, jsr.json and deno.json).
 *
 * @module
 */

/**
 * The ssepg version.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`ssepg ${VERSION}`);
 * ```
 */
export const VERSION = "0.1.0";
