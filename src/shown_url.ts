/**
 * URLs as they may appear in logs and error messages: with the password masked.
 *
 * @module
 */

/**
 * A URL as it may be shown in a log: the password replaced by `***`.
 *
 * @param url A PostgreSQL URL.
 * @returns The URL without its password (or the text before `@` masked when it does not parse).
 *
 * @example
 * ```ts
 * import { shownUrl } from "./shown_url.ts";
 * shownUrl("postgres://app:s3cret@db:5432/app"); // "postgres://app:***@db:5432/app"
 * ```
 */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}
