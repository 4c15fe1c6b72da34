/**
 * Reading one cookie of a request's `Cookie` header.
 *
 * @example
 * ```ts
 * import { cookieValue } from "./cookie.ts";
 * cookieValue("theme=dark; ssepg_token=eyJ.x.y", "ssepg_token"); // "eyJ.x.y"
 * ```
 *
 * @module
 */

/**
 * The value of the cookie `name`, or undefined. Several `Cookie` headers may come joined by
 * `, ` (Web `Headers`) or `; ` (`node:http`); both separators are understood, which is safe for
 * the tokens read here since a JWT contains neither.
 *
 * @param header The `Cookie` header, or null.
 * @param name The cookie name, case-sensitive.
 * @returns The first value, without surrounding quotes; undefined when absent or empty.
 *
 * @example
 * ```ts
 * import { cookieValue } from "./cookie.ts";
 * cookieValue('a=1, t="abc"', "t"); // "abc"
 * cookieValue(null, "t"); // undefined
 * ```
 */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header || !header.includes(name)) return undefined;
  for (const part of header.split(/[;,]/)) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value !== "") return value;
  }
  return undefined;
}
