import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { errorAnswers, jsonAnswer, registerRoutes, sessionSecurity, type ZodApp } from '@parley/http';
import { extractToken } from '@parley/access';
import { latestPageSchema, searchPageSchema, uuidText, type LatestPage, type SearchPage } from '@parley/contracts';
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

const RoomParams = z.strictObject({ roomId: uuidText().meta({ format: 'uuid', description: 'room id, in any letter case' }) });
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

// Checked as text so the messages can say what is wrong; documented as the integer it must be.
const limitParam = (limits: { defaultLimit: number; maxLimit: number }) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(limits.maxLimit, `must be at most ${limits.maxLimit}`))
    .optional()
    .meta({ type: 'integer', minimum: 1, maximum: limits.maxLimit, description: `page size (default ${limits.defaultLimit})` });

function pageShape(limits: QueryLimits) {
  return {
    limit: limitParam(limits),
    cursor: z.string().optional().meta({ description: '`next_cursor` of the previous page, asked with the same other parameters (opaque)' }),
    order: z.enum(['newest', 'oldest']).default('newest'),
    sender: senderId.optional().meta({ description: 'only messages of this sender (user id)' }),
    from: instant.optional().meta({ description: '`created_at` >= from: epoch milliseconds or an RFC 3339 date-time' }),
    to: instant.optional().meta({ description: '`created_at` < to: epoch milliseconds or an RFC 3339 date-time; after `from`' }),
  };
}
const inOrder = (v: { from?: number; to?: number }) => v.from === undefined || v.to === undefined || v.from < v.to;
const fromBeforeTo = { message: 'from must be before to', path: ['from'] };

const historyQuery = (limits: QueryLimits) => z.strictObject(pageShape(limits)).refine(inOrder, fromBeforeTo);
const searchQuery = (limits: QueryLimits) =>
  z
    .strictObject({
      ...pageShape(limits),
      q: z.string({ error: 'is required' }).meta({
        description: `plain text of 1..${limits.maxQueryChars} characters: its words must all occur, "double quoted" parts as phrases; nothing else has a meaning`,
      }),
    })
    .refine(inOrder, fromBeforeTo);
type PageQuery = z.output<ReturnType<typeof historyQuery>> & { q?: string };

function requireToken(req: FastifyRequest): string {
  const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
  if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
  return found.token;
}

// A token must be present before the input is looked at: preValidation runs before the schemas.
const tokenFirst = {
  preValidation: async (req: FastifyRequest) => {
    requireToken(req);
  },
};
const pageErrors = errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE');

/**
 * GET /v1/rooms/:roomId/messages and /search. Order of checks: a token must be present (401),
 * then the input must be well formed (400), then the session and membership are asked (401,
 * 403, 404). The search runs alongside the access check, and its result is released only
 * when access was granted (see afterAccess).
 */
export function registerQueryRoutes(app: FastifyInstance, access: RoomAccess, search: MessageSearch, limits: QueryLimits): void {
  registerRoutes(app, (routes) => queryRoutes(routes, access, search, limits));
}

function queryRoutes(app: ZodApp, access: RoomAccess, search: MessageSearch, limits: QueryLimits): void {
  const page = async (req: FastifyRequest, roomId: string, q: PageQuery): Promise<SearchPage> => {
    const token = requireToken(req);
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
    const found = await afterAccess(access.authorize(token, roomId), search.search(request));
    const last = found.messages.at(-1);
    const next = found.hasMore && last ? encodeCursor({ id: BigInt(last.id), order: q.order, fingerprint }) : null;
    return { messages: found.messages, next_cursor: next };
  };
  const pageAnswer = jsonAnswer('a page; follow `next_cursor` (null on the last one): paging never skips or repeats a message while new ones arrive', searchPageSchema);

  app.get(
    '/v1/rooms/:roomId/messages',
    {
      ...tokenFirst,
      schema: {
        summary: "A room's history, newest or oldest first (Elasticsearch)",
        security: sessionSecurity,
        params: RoomParams,
        querystring: historyQuery(limits),
        response: { 200: pageAnswer, ...pageErrors },
      },
    },
    (req) => page(req, req.params.roomId, req.query),
  );
  app.get(
    '/v1/rooms/:roomId/search',
    {
      ...tokenFirst,
      schema: {
        summary: 'Full-text search over message bodies',
        description: 'Query syntax typed by a user (`*:*`, brackets, OR, field:value) is searched as text. An unmatched quote is ignored. Each hit carries `highlights`: HTML-escaped fragments of its body with the matches in `<mark></mark>`.',
        security: sessionSecurity,
        params: RoomParams,
        querystring: searchQuery(limits),
        response: { 200: pageAnswer, ...pageErrors },
      },
    },
    (req) => page(req, req.params.roomId, req.query),
  );
}

/**
 * GET /v1/rooms/:roomId/messages/latest: the newest page, or the page just before/after an id,
 * from Cassandra through the same walk as gRPC ListMessages. Unlike `/messages` (Elasticsearch)
 * it sees a message as soon as the stream has stored it, so paging by id leaves no hole.
 * Checks run in the same order as the other routes: token (401), input (400), access.
 */
export function registerLatestRoute(app: FastifyInstance, latest: LatestMessages, limits: { defaultLimit: number; maxLimit: number }): void {
  const LatestQuery = z.strictObject({
    limit: limitParam(limits),
    before_id: z.string().optional().meta({ description: 'exclusive: the messages just older than this id (scrolling back)' }),
    after_id: z.string().optional().meta({ description: 'exclusive: the messages just newer than this id (catching up after a gap); not with `before_id`' }),
  });
  registerRoutes(app, (routes) =>
    routes.get(
      '/v1/rooms/:roomId/messages/latest',
      {
        ...tokenFirst,
        schema: {
          summary: 'The newest messages of a room, or those just before or after a message id (Cassandra), oldest to newest',
          description:
            'Reads the store the stream writes first, so a message is here as soon as it is stored (no indexing lag); paging with `before_id` from the first id ' +
            'of each page visits every message once, also while messages arrive. `has_more`: older messages exist (newest page or `before_id`), or newer ones (`after_id`). ' +
            'The realtime edge reads the same over gRPC (parley.chat.v1.ChatQueryService).',
          security: sessionSecurity,
          params: RoomParams,
          querystring: LatestQuery,
          response: { 200: jsonAnswer('a page, oldest to newest', latestPageSchema), ...pageErrors },
        },
      },
      async (req) => {
        const q = req.query;
        const found = await latest.list(requireToken(req), { roomId: req.params.roomId, limit: q.limit ?? limits.defaultLimit, ...idCursors(q.before_id, q.after_id) });
        return { messages: found.messages, has_more: found.hasMore } satisfies LatestPage;
      },
    ),
  );
}
