import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { parseInput, extractToken } from '@parley/http';
import { uuidText, type LatestPage } from '@parley/contracts';
import { afterAccess, type RoomAccess } from './access.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import type { MessageSearch, SearchRequest } from './elastic-message-search.js';
import { idCursors, type LatestMessages } from './latest-messages.js';
import { parseSearchText } from './search-text.js';

export interface QueryLimits {
  defaultLimit: number;
  maxLimit: number;
  maxQueryChars: number;
}

const RoomParams = z.strictObject({ roomId: uuidText() });
const senderId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a user id');
/** Epoch milliseconds or an RFC 3339 date-time. */
const instant = z.string().transform((s, ctx) => {
  const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T/.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an RFC 3339 date-time' });
    return z.NEVER;
  }
  return ms;
});

const limitParam = (max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional();

function querySchema(limits: QueryLimits, withText: boolean) {
  return z
    .strictObject({
      limit: limitParam(limits.maxLimit),
      cursor: z.string().optional(),
      order: z.enum(['newest', 'oldest']).default('newest'),
      sender: senderId.optional(),
      from: instant.optional(),
      to: instant.optional(),
      ...(withText ? { q: z.string({ error: 'is required' }) } : {}),
    })
    .refine((v) => v.from === undefined || v.to === undefined || v.from < v.to, { message: 'from must be before to', path: ['from'] });
}

function requireToken(req: FastifyRequest): string {
  const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
  if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
  return found.token;
}

/**
 * GET /v1/rooms/:roomId/messages and /search. Order of checks: a token must be present (401),
 * then the input must be well formed (400), then the session and membership are asked (401,
 * 403, 404). The search runs alongside the access check, and its result is released only
 * when access was granted (see afterAccess).
 */
export function registerQueryRoutes(app: FastifyInstance, access: RoomAccess, search: MessageSearch, limits: QueryLimits): void {
  const history = querySchema(limits, false);
  const searchQuery = querySchema(limits, true);

  const handle = async (req: FastifyRequest, withText: boolean) => {
    const token = requireToken(req);
    const { roomId } = parseInput(RoomParams, req.params, 'path');
    const q = parseInput(withText ? searchQuery : history, req.query, 'query') as z.infer<typeof history> & { q?: string };
    const text = q.q !== undefined ? parseSearchText(q.q, limits.maxQueryChars) : undefined;
    const fingerprint = queryFingerprint({ roomId, q: q.q, sender: q.sender, from: q.from, to: q.to, order: q.order });
    let afterId: bigint | undefined;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor);
      if (cursor.fingerprint !== fingerprint || cursor.order !== q.order) {
        throw new ParleyError('VALIDATION_FAILED', 'cursor belongs to a different query; repeat the same parameters or drop the cursor');
      }
      afterId = cursor.id;
    }
    const request: SearchRequest = { roomId, text, senderId: q.sender, fromMs: q.from, toMs: q.to, order: q.order, limit: q.limit ?? limits.defaultLimit, afterId };
    const page = await afterAccess(access.authorize(token, roomId), search.search(request));
    const last = page.messages.at(-1);
    const next = page.hasMore && last ? encodeCursor({ id: BigInt(last.id), order: q.order, fingerprint }) : null;
    return { messages: page.messages, next_cursor: next };
  };

  app.get('/v1/rooms/:roomId/messages', (req) => handle(req, false));
  app.get('/v1/rooms/:roomId/search', (req) => handle(req, true));
}

/**
 * GET /v1/rooms/:roomId/messages/latest: the newest page, or the page just before/after an id,
 * from Cassandra through the same walk as gRPC ListMessages. Unlike `/messages` (Elasticsearch)
 * it sees a message as soon as the stream has stored it, so paging by id leaves no hole.
 * Checks run in the same order as the other routes: token (401), input (400), access.
 */
export function registerLatestRoute(app: FastifyInstance, latest: LatestMessages, limits: { defaultLimit: number; maxLimit: number }): void {
  const schema = z.strictObject({ limit: limitParam(limits.maxLimit), before_id: z.string().optional(), after_id: z.string().optional() });
  app.get('/v1/rooms/:roomId/messages/latest', async (req) => {
    const token = requireToken(req);
    const { roomId } = parseInput(RoomParams, req.params, 'path');
    const q = parseInput(schema, req.query, 'query');
    const page = await latest.list(token, { roomId, limit: q.limit ?? limits.defaultLimit, ...idCursors(q.before_id, q.after_id) });
    return { messages: page.messages, has_more: page.hasMore } satisfies LatestPage;
  });
}
