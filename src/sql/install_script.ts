/**
 * The SQL install script: the `ssepg` schema, with nothing but functions, that lets a trigger or
 * the application's own transaction publish events. `NOTIFY` is transactional, so an event sent
 * this way is delivered if and only if its transaction commits, with no table and no polling.
 *
 * The functions speak the servers' wire format exactly (see `src/bus/envelope.ts`): the same
 * channel (`topic_broadcast_{fnv1a32(topic) mod notifyShards}`), the same envelope, ids of the
 * same shape as `src/id.ts`'s, so every instance (Go ones included) delivers these events like
 * any other, and `Last-Event-ID` resumes from them on any instance.
 *
 * @module
 */

import { FRAGMENT_CHANNEL, FRAGMENT_HEADER_ROOM } from "../bus/fragments.ts";

/** The largest NOTIFY payload PostgreSQL accepts, in bytes (it must be shorter than 8000). */
export const MAX_SQL_PAYLOAD_BYTES = 7999;

/** The functions the script defines, in the order it defines them. */
export const SQL_FUNCTIONS: readonly string[] = [
  "notify_shards",
  "max_event_bytes",
  "fnv1a32",
  "base36",
  "normalize_topic",
  "channel",
  "publish",
];

/**
 * Options of {@link installScript}.
 *
 * @example
 * ```ts
 * import type { InstallScriptOptions } from "./install_script.ts";
 * const options: InstallScriptOptions = { notifyShards: 8 };
 * ```
 */
export interface InstallScriptOptions {
  /** `notifyShards` of the servers, 1 to 1024: baked into `ssepg.notify_shards()`. */
  readonly notifyShards: number;
  /**
   * `maxEventBytes` of the servers: baked into `ssepg.max_event_bytes()`; a larger event raises
   * 22023 rather than being dropped by every server. @default 1048576
   */
  readonly maxEventBytes?: number;
}

/**
 * The idempotent install script for the `ssepg` schema: `create schema if not exists`,
 * `create or replace function` and `comment on function` only, so it can run from any migration
 * tool, as often as wanted. It is ASCII only, so it installs in a database of any encoding.
 *
 * It defines `ssepg.publish(topic, data)` for `json`, `jsonb` and `text` data (the `text` one
 * lets an untyped literal such as `'{"a":1}'` choose an overload), returning the event's id;
 * `ssepg.notify_shards()`, the shard count baked in here; and the helpers publish uses
 * (`ssepg.fnv1a32`, `ssepg.base36`, `ssepg.normalize_topic`, `ssepg.channel`).
 *
 * @param options The servers' `notifyShards`.
 * @returns The script.
 * @throws {RangeError} when `notifyShards` is not a whole number from 1 to 1024.
 *
 * @example
 * ```ts
 * import { installScript } from "./install_script.ts";
 * const script = installScript({ notifyShards: 8 });
 * script.includes("create or replace function ssepg.publish"); // true
 * ```
 */
export function installScript(options: InstallScriptOptions): string {
  const shards = options.notifyShards;
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) {
    throw new RangeError(`notifyShards must be a whole number from 1 to 1024: current value is ${shards}`);
  }
  const maxEvent = options.maxEventBytes ?? 1_048_576;
  if (!Number.isInteger(maxEvent) || maxEvent < 64) {
    throw new RangeError(`maxEventBytes must be a whole number of at least 64: current value is ${maxEvent}`);
  }
  return SCRIPT.replaceAll("{{SHARDS}}", String(shards))
    .replaceAll("{{MAX_EVENT}}", String(maxEvent))
    .replaceAll("{{MAX_PAYLOAD}}", String(MAX_SQL_PAYLOAD_BYTES))
    .replaceAll("{{PIECE_BYTES}}", String(MAX_SQL_PAYLOAD_BYTES - FRAGMENT_HEADER_ROOM))
    .replaceAll("{{FRAGMENT_CHANNEL}}", FRAGMENT_CHANNEL);
}

// Notes on the SQL below, kept here so the script itself stays short:
// - Every string literal that holds a backslash is an E'' literal, so the script means the same
//   whatever `standard_conforming_strings` is.
// - Topics are lower-cased with the "C" collation (ASCII only, whatever the database's locale),
//   then the one character JavaScript's toLowerCase() maps into [a-z0-9_-] from outside ASCII,
//   U+212A KELVIN SIGN, is mapped to "k" too: the servers accept exactly the same topics.
// - FNV-1a's multiply wraps at 2^32 in Go and JavaScript; PostgreSQL has no unsigned 32-bit type,
//   so the hash is a bigint masked to 32 bits after each multiply (2^32 * 16777619 < 2^63).
// - Ids are `<ms since epoch>-<tag>-<counter>` in base 36, the shape of src/id.ts, so the
//   dispatcher reads the publish time back from them. The tag is the transaction id modulo 36^6:
//   transactions in progress at the same moment have ids less than 2^31 apart (PostgreSQL's
//   wraparound limit), and 2^31 < 36^6, so no two of them share a tag. The counter counts the
//   transaction's publishes (in a transaction-local setting), so ids keep the publish order.
//   A publish undone by ROLLBACK TO SAVEPOINT gives its counter back along with its NOTIFY: its
//   id was never delivered, and may be given to a later publish of the same transaction.
// - An envelope over one NOTIFY goes as fragments on the fragment channel, exactly as the servers
//   send them (src/bus/fragments.ts): pieces are cut from the UTF-8 bytes, backing off to the
//   first byte of a character, so every piece is valid text; bytea substring and get_byte are
//   constant time, where substr() on a multibyte text walks it from the start every time.
// - Data is compacted by removing JSON whitespace outside strings, so the payload is what the
//   servers' own encodeEnvelope() writes for the same text, and the NOTIFY carries no spaces.
const SCRIPT = `-- ssepg: publish Server-Sent Events from SQL, inside your own transactions.
-- Generated by "ssepg sql"; idempotent: run it again after changing notifyShards.
-- Roles other than the owner need: grant usage on schema ssepg to <role>;

create schema if not exists ssepg;

create or replace function ssepg.notify_shards() returns integer
language sql immutable parallel safe
as 'select {{SHARDS}}';

comment on function ssepg.notify_shards() is
  'notifyShards this schema was installed for; every ssepg instance on the database must use the same';

create or replace function ssepg.max_event_bytes() returns integer
language sql immutable parallel safe
as 'select {{MAX_EVENT}}';

comment on function ssepg.max_event_bytes() is
  'maxEventBytes this schema was installed for: the largest event envelope ssepg.publish sends';

create or replace function ssepg.fnv1a32(input text) returns bigint
language plpgsql immutable strict parallel safe
as $fn$
declare
  bytes bytea := convert_to(input, 'UTF8');
  hash bigint := 2166136261;
begin
  for i in 0 .. length(bytes) - 1 loop
    hash := ((hash # get_byte(bytes, i)) * 16777619) & 4294967295;
  end loop;
  return hash;
end
$fn$;

comment on function ssepg.fnv1a32(text) is '32-bit FNV-1a of the UTF-8 bytes of the text, as the ssepg servers hash topics';

create or replace function ssepg.base36(n bigint) returns text
language plpgsql immutable strict parallel safe
as $fn$
declare
  digits constant text := '0123456789abcdefghijklmnopqrstuvwxyz';
  out text := '';
begin
  if n < 0 then
    raise exception using errcode = '22023', message = 'ssepg.base36: n must not be negative: current value is ' || n;
  end if;
  loop
    out := substr(digits, (n % 36)::integer + 1, 1) || out;
    n := n / 36;
    exit when n = 0;
  end loop;
  return out;
end
$fn$;

comment on function ssepg.base36(bigint) is 'a non-negative number in base 36 (0-9a-z), as JavaScript''s toString(36)';

create or replace function ssepg.normalize_topic(topic text) returns text
language plpgsql immutable parallel safe
as $fn$
declare
  normalized text;
  shown text;
begin
  if topic is null then
    raise exception using errcode = '22023', message = 'ssepg.publish: the topic must not be null';
  end if;
  normalized := lower(topic collate "C");
  -- ^[a-z0-9_-]{1,128}$ without a regular expression, which costs several times as much.
  if length(normalized) between 1 and 128 and ltrim(normalized, 'abcdefghijklmnopqrstuvwxyz0123456789_-') = '' then
    return normalized;
  end if;
  if getdatabaseencoding() = 'UTF8' then
    normalized := lower(replace(topic, chr(8490), 'k') collate "C");
  end if;
  if length(normalized) not between 1 and 128 or ltrim(normalized, 'abcdefghijklmnopqrstuvwxyz0123456789_-') <> '' then
    shown := case when length(topic) > 140 then left(topic, 140) || '...' else topic end;
    raise exception using
      errcode = '22023',
      message = 'ssepg.publish: topic ids must match ^[a-z0-9_-]{1,128}$ after lower-casing: current value is '
        || to_json(shown)::text;
  end if;
  return normalized;
end
$fn$;

comment on function ssepg.normalize_topic(text) is
  'the topic lower-cased and checked as the ssepg servers check it; raises 22023 when it is not a valid topic id';

create or replace function ssepg.channel(topic text) returns text
language sql immutable parallel safe
as $fn$
  select 'topic_broadcast_' || (ssepg.fnv1a32(ssepg.normalize_topic(topic)) % ssepg.notify_shards())
$fn$;

comment on function ssepg.channel(text) is 'the NOTIFY channel ssepg publishes the topic on';

create or replace function ssepg.publish(topic text, data json) returns text
language plpgsql volatile
as $fn$
declare
  normalized text := ssepg.normalize_topic(topic);
  body text;
  xact bigint := txid_current();
  state text[] := string_to_array(current_setting('ssepg.publish_state', true), ' ');
  counter bigint := 0;
  id text;
  payload text;
  bytes bytea;
  total integer;
  starts integer[] := '{}';
  pos integer := 0;
  stop integer;
  pieces integer;
begin
  if data is null or json_typeof(data) = 'null' then
    raise exception using
      errcode = '22023',
      message = 'ssepg.publish: data must not be null (SQL NULL or JSON null), as over HTTP: topic "' || normalized || '"';
  end if;
  body := data::text;
  -- Whitespace outside strings goes; text with none at all (row_to_json's) skips the regexp.
  if strpos(body, ' ') > 0 or strpos(body, chr(10)) > 0 or strpos(body, chr(9)) > 0 or strpos(body, chr(13)) > 0 then
    body := regexp_replace(body, E'("(?:[^"\\\\\\\\]|\\\\\\\\.)*")|[ \\\\t\\\\n\\\\r]+', E'\\\\1', 'g');
  end if;
  if state[1] = xact::text then
    counter := state[2]::bigint + 1;
  end if;
  perform set_config('ssepg.publish_state', xact || ' ' || counter, true);
  id := ssepg.base36(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)
    || '-' || lpad(ssepg.base36(xact % 2176782336), 6, '0')
    || '-' || ssepg.base36(counter);
  payload := '{"topic":"' || normalized || '","data":' || body || ',"id":"' || id || '"}';
  if octet_length(payload) <= {{MAX_PAYLOAD}} then
    -- ssepg.channel() without validating the topic a second time.
    perform pg_notify('topic_broadcast_' || (ssepg.fnv1a32(normalized) % ssepg.notify_shards()), payload);
    return id;
  end if;
  bytes := convert_to(payload, 'UTF8');
  total := length(bytes);
  if total > ssepg.max_event_bytes() then
    raise exception using
      errcode = '22023',
      message = 'ssepg.publish: the event for topic "' || normalized || '" is ' || total
        || ' bytes as a NOTIFY envelope, over maxEventBytes (' || ssepg.max_event_bytes() || ' bytes)';
  end if;
  while pos < total loop
    starts := starts || pos;
    stop := least(total, pos + {{PIECE_BYTES}});
    while stop < total and (get_byte(bytes, stop) & 192) = 128 loop
      stop := stop - 1;
    end loop;
    pos := stop;
  end loop;
  pieces := array_length(starts, 1);
  for i in 1 .. pieces loop
    stop := case when i < pieces then starts[i + 1] else total end;
    perform pg_notify('{{FRAGMENT_CHANNEL}}', id || ' ' || (i - 1) || ' ' || pieces || ' ' || normalized || chr(10)
      || convert_from(substring(bytes from starts[i] + 1 for stop - starts[i]), 'UTF8'));
  end loop;
  return id;
end
$fn$;

comment on function ssepg.publish(text, json) is
  'publishes one event to the ssepg topic when the transaction commits, and returns its id';

create or replace function ssepg.publish(topic text, data jsonb) returns text
language sql volatile
as $fn$ select ssepg.publish(topic, data::json) $fn$;

comment on function ssepg.publish(text, jsonb) is
  'publishes one event to the ssepg topic when the transaction commits, and returns its id';

create or replace function ssepg.publish(topic text, data text) returns text
language plpgsql volatile
as $fn$
declare
  parsed json;
begin
  -- Text that is not JSON gets 22023 like every other refusal of ssepg.publish, not 22P02.
  begin
    parsed := data::json;
  exception when invalid_text_representation then
    raise exception using errcode = '22023', message = 'ssepg.publish: data must be JSON text: ' || sqlerrm;
  end;
  return ssepg.publish(topic, parsed);
end
$fn$;

comment on function ssepg.publish(text, text) is
  'publishes one event (data is JSON text) to the ssepg topic when the transaction commits, and returns its id';
`;
