/**
 * Takes one member of a JSON object as compact text, without a parse/stringify round trip.
 *
 * `JSON.stringify(JSON.parse(x))` turns `1e400` into `null` and rounds integers past 2^53; a
 * publisher's data must reach subscribers as it was sent, only without insignificant whitespace.
 *
 * @module
 */

/** JSON whitespace: space, tab, LF, CR. */
function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The compact JSON text of member `key` of the top-level object in `text`.
 *
 * `text` must already be valid JSON (check it with `JSON.parse` first). When the key appears more
 * than once, the last one wins, as with `JSON.parse`. The scan is iterative, so deep nesting cannot
 * exhaust the stack.
 *
 * @param text Valid JSON text whose top level is an object.
 * @param key The member name.
 * @returns The member's value with whitespace outside strings removed, or `undefined`.
 *
 * @example
 * ```ts
 * import { compactMember } from "./json.ts";
 * compactMember('{ "data": [1, 2, 12345678901234567890] }', "data"); // "[1,2,12345678901234567890]"
 * ```
 */
export function compactMember(text: string, key: string): string | undefined {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== 0x7b /* { */) return undefined;
  i++;
  let found: [number, number] | undefined;
  for (;;) {
    i = skipWhitespace(text, i);
    if (text.charCodeAt(i) === 0x7d /* } */ || i >= text.length) break;
    const keyEnd = skipString(text, i);
    const rawKey = text.slice(i + 1, keyEnd - 1);
    const name = rawKey.includes("\\") ? JSON.parse(text.slice(i, keyEnd)) as string : rawKey;
    i = skipWhitespace(text, keyEnd) + 1; // past ':'
    const start = skipWhitespace(text, i);
    const end = skipValue(text, start);
    if (name === key) found = [start, end];
    i = skipWhitespace(text, end);
    if (text.charCodeAt(i) === 0x2c /* , */) i++;
  }
  return found && compact(text.slice(found[0], found[1]));
}

/**
 * Removes whitespace outside strings from valid JSON text.
 *
 * @param text Valid JSON text.
 * @returns The same value with no insignificant whitespace; `text` itself when there is none.
 *
 * @example
 * ```ts
 * import { compact } from "./json.ts";
 * compact('{ "a" : "b c" }'); // '{"a":"b c"}'
 * ```
 */
export function compact(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) i = skipString(text, i);
    else if (isWhitespace(c)) {
      out += text.slice(from, i);
      i = skipWhitespace(text, i);
      from = i;
    } else i++;
  }
  return from === 0 ? text : out + text.slice(from);
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string that starts at `i` (which holds the opening quote). */
function skipString(text: string, i: number): number {
  // indexOf runs natively; only a quote preceded by an odd run of backslashes is escaped.
  for (;;) {
    const quote = text.indexOf('"', i + 1);
    if (quote < 0) return text.length;
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === 0x5c /* \ */) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    i = quote;
  }
}

/** Index just past the value that starts at `i`, trailing whitespace excluded. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  let end = i;
  for (; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = skipString(text, i);
      end = i;
    } else if (c === 0x7b || c === 0x5b /* { [ */) {
      depth++;
      end = ++i;
    } else if (c === 0x7d || c === 0x5d /* } ] */) {
      if (depth === 0) break;
      depth--;
      end = ++i;
    } else if (c === 0x2c && depth === 0) break;
    else if (isWhitespace(c)) i++;
    else end = ++i;
  }
  return end;
}
