import { z } from 'zod';

/**
 * Identifiers as they cross every boundary. Rooms and users are UUIDs, and each has exactly one
 * spelling inside Parley: lower-case hex in the 8-4-4-4-12 hyphenated form, the form PostgreSQL
 * prints. Input in upper or mixed case names the same id and is folded to that form at the
 * boundary where it enters (a WebSocket path, a REST parameter, a gRPC field), so NATS
 * subjects, Kafka keys, CQL partitions and ES fields only ever see the canonical spelling.
 * Other notations PostgreSQL would also read (braces, `urn:uuid:`, no hyphens) are refused:
 * accepting them would make one room reachable under several names for no client's benefit.
 *
 *   accepted   0b6f3c1e-7a2d-4c8e-9f10-2a3b4c5d6e7f   (any case)
 *   refused    {0b6f3c1e-...}  urn:uuid:0b6f3c1e-...  0b6f3c1e7a2d4c8e9f102a3b4c5d6e7f
 */
const UUID_ANY_CASE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The canonical spelling of a UUID typed in any case, or undefined when it is not one. */
export function canonicalUuid(text: string): string | undefined {
  return UUID_ANY_CASE.test(text) ? text.toLowerCase() : undefined;
}

/** True only for the canonical spelling itself (what stores and records must carry). */
export function isCanonicalUuid(text: string): boolean {
  return UUID_CANONICAL.test(text);
}

/** A UUID field at a boundary: any case in, the canonical spelling out. */
export const uuidText = () => z.string().regex(UUID_ANY_CASE, 'must be a UUID (8-4-4-4-12 hex digits)').transform((s) => s.toLowerCase());

/**
 * Message ids are 64-bit snowflakes (see @parley/envelope's Snowflake for the bit layout),
 * always sent as decimal strings: a JSON number cannot carry 2^53 and above exactly.
 */
const MESSAGE_ID = /^[1-9][0-9]{0,18}$/;
const MAX_MESSAGE_ID = (1n << 63n) - 1n;

/** The id as a bigint, or undefined when `text` is not a positive int64 in decimal. */
export function parseMessageId(text: string): bigint | undefined {
  if (!MESSAGE_ID.test(text)) return undefined;
  const id = BigInt(text);
  return id <= MAX_MESSAGE_ID ? id : undefined;
}

/** A client's retry key, and the other short tokens of the protocol. */
export const CLIENT_MSG_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * A room id as it appears in subjects, keys and stores: lower case, so one room has one spelling
 * (rooms are UUIDs; the wider token set keeps test and tool rooms simple).
 */
export const ROOM_TOKEN_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** A user id inside a message: the sender's canonical UUID, or a short token in tests. */
export const USER_TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A username: ASCII, so case-insensitive uniqueness is exactly lower() (user-svc stores it so). */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9][A-Za-z0-9_.-]{2,31})/g;

/**
 * The usernames a body mentions as `@name` (lower case, each once, in order of appearance, at
 * most `max`). A mention starts after a non-name character, so `mail@example.com` is none; a
 * trailing `.` or `-` ends the sentence rather than the name.
 */
export function mentionedUsernames(body: string, max: number): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(MENTION)) {
    const name = m[2]!.replace(/[.-]+$/, '').toLowerCase();
    if (name.length >= 3 && !out.includes(name)) out.push(name);
    if (out.length === max) break;
  }
  return out;
}
