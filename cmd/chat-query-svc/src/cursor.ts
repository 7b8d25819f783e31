import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseId } from '@parley/envelope';
import { ParleyError } from '@parley/errors';

export type SortOrder = 'newest' | 'oldest';

/**
 * The opaque "next page" token of REST history and search:
 *
 *   base64url(JSON {"v":1, "id":"<last snowflake id returned>", "o":"newest"|"oldest", "h":"<16 hex>"})
 *
 * The next page is everything strictly beyond `id` in order `o` (search_after on `seq`, which
 * is the unique id, so ties cannot exist). `h` fingerprints the query it belongs to; a cursor
 * replayed with another room, text, filter or order is refused rather than silently applied.
 */
export interface Cursor {
  id: bigint;
  order: SortOrder;
  fingerprint: string;
}

const MAX_CURSOR_CHARS = 256;
const schema = z.strictObject({
  v: z.literal(1),
  id: z.string(),
  o: z.enum(['newest', 'oldest']),
  h: z.string().regex(/^[0-9a-f]{16}$/),
});

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, id: c.id.toString(), o: c.order, h: c.fingerprint })).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const bad = (why: string) => new ParleyError('VALIDATION_FAILED', `cursor is malformed: ${why}`);
  if (raw.length > MAX_CURSOR_CHARS) throw bad('too long');
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw bad('not base64url');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw bad('unexpected fields');
  const id = parseId(parsed.data.id);
  if (id === undefined) throw bad('id is not a message id');
  return { id, order: parsed.data.o, fingerprint: parsed.data.h };
}

/** Fingerprint of everything that defines a result list except the page position and size. */
export function queryFingerprint(parts: Record<string, string | number | undefined>): string {
  const canonical = JSON.stringify(Object.keys(parts).sort().map((k) => [k, parts[k] ?? null]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
