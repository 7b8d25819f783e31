import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { bodyErrors, errorAnswers, jsonAnswer, registerRoutes, sessionSecurity, type ZodApp } from '@parley/http';
import { extractToken } from '@parley/access';
import {
  READERS_LISTED_UP_TO,
  readersSchema,
  readMarkBodySchema,
  readMarkSchema,
  unreadSchema,
  erasureReportSchema,
  erasureRequestSchema,
  latestPageSchema,
  messageIdText,
  messageSchema,
  parseMessageId,
  searchPageSchema,
  threadPageSchema,
  uuidText,
  versionsSchema,
  type FoundMessage,
  type LatestPage,
  type SearchPage,
} from '@parley/contracts';
import { afterAccess, type RoomAccess } from './access.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import type { MessageSearch, SearchRequest } from './elastic-message-search.js';
import { idCursors, type LatestMessages } from './latest-messages.js';
import { parseSearchText } from './search-text.js';
import type { MessageReads } from './message-reads.js';
import { isOperator, type Erasures } from './erasures.js';
import type { ReadMarks } from './read-state.js';

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
    mention: senderId.optional().meta({ description: 'only messages whose current body mentions this user (user id)' }),
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
export function registerQueryRoutes(app: FastifyInstance, access: RoomAccess, search: MessageSearch, limits: QueryLimits, reads?: MessageReads): void {
  registerRoutes(app, (routes) => queryRoutes(routes, access, search, limits, reads));
}

/**
 * Elasticsearch finds and orders; the current state of what it found (reactions, replies, the
 * reader's `me`, an edit ES has not folded in yet) comes from Cassandra, the projection that
 * holds every change. Without Cassandra the page is answered from the documents alone.
 */
async function hydrate(reads: MessageReads | undefined, found: FoundMessage[], readerId: string): Promise<FoundMessage[]> {
  if (!reads || found.length === 0) return found;
  const byRoom = new Map<string, bigint[]>();
  for (const m of found) byRoom.set(m.room_id, [...(byRoom.get(m.room_id) ?? []), BigInt(m.id)]);
  let states: Map<string, import('@parley/contracts').Message>;
  try {
    const maps = await Promise.all([...byRoom].map(([room, ids]) => reads.many(room, ids, readerId)));
    states = new Map(maps.flatMap((m) => [...m]));
  } catch {
    return found;
  }
  return found.map((m) => {
    const state = states.get(m.id);
    return state ? { ...state, ...(m.highlights ? { highlights: m.highlights } : {}) } : m;
  });
}

function queryRoutes(app: ZodApp, access: RoomAccess, search: MessageSearch, limits: QueryLimits, reads: MessageReads | undefined): void {
  const page = async (req: FastifyRequest, roomId: string, q: PageQuery): Promise<SearchPage> => {
    const token = requireToken(req);
    const text = q.q !== undefined ? parseSearchText(q.q, limits.maxQueryChars) : undefined;
    const fingerprint = queryFingerprint({ roomId, q: q.q, sender: q.sender, mention: q.mention, from: q.from, to: q.to, order: q.order });
    let afterId: bigint | undefined;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor);
      if (cursor.fingerprint !== fingerprint || cursor.order !== q.order) {
        throw new ParleyError('VALIDATION_FAILED', 'cursor belongs to a different query; repeat the same parameters or drop the cursor');
      }
      afterId = cursor.id;
    }
    const request: SearchRequest = { roomId, text, senderId: q.sender, mentionId: q.mention, fromMs: q.from, toMs: q.to, order: q.order, limit: q.limit ?? limits.defaultLimit, afterId };
    const granted = access.authorize(token, roomId);
    const found = await afterAccess(granted, search.search(request));
    const last = found.messages.at(-1);
    const next = found.hasMore && last ? encodeCursor({ id: BigInt(last.id), order: q.order, fingerprint }) : null;
    return { messages: await hydrate(reads, found.messages, (await granted).userId), next_cursor: next };
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

const MessageParams = z.strictObject({
  roomId: uuidText().meta({ format: 'uuid', description: 'room id, in any letter case' }),
  messageId: messageIdText.meta({ description: 'message id (snowflake, decimal)' }),
});

/**
 * One message and what hangs off it, from Cassandra: the message in its current state, its
 * versions (the author's edits), its thread, and the messages that mention the caller across
 * their rooms (Elasticsearch finds them, membership is checked per room, Cassandra gives the state).
 */
export function registerMessageRoutes(
  app: FastifyInstance,
  deps: { access: RoomAccess; reads: MessageReads; search: MessageSearch; limits: QueryLimits },
): void {
  const { access, reads, search, limits } = deps;
  const notFound = () => new ParleyError('NOT_FOUND', 'no such message in this room');
  const idOf = (text: string) => parseMessageId(text)!;
  registerRoutes(app, (routes) => {
    routes.get(
      '/v1/rooms/:roomId/messages/:messageId',
      {
        ...tokenFirst,
        schema: {
          summary: 'One message in its current state (Cassandra)',
          security: sessionSecurity,
          params: MessageParams,
          response: { 200: jsonAnswer('the message', messageSchema), ...pageErrors },
        },
      },
      async (req) => {
        const { roomId, messageId } = req.params;
        const granted = access.authorize(requireToken(req), roomId);
        const { userId } = await granted;
        const m = await reads.one(roomId, idOf(messageId), userId);
        if (!m) throw notFound();
        return m;
      },
    );
    routes.get(
      '/v1/rooms/:roomId/messages/:messageId/versions',
      {
        ...tokenFirst,
        schema: {
          summary: "Every body a message had: the original, then each of its author's edits",
          description: 'Empty once the message is deleted: its text is gone with it.',
          security: sessionSecurity,
          params: MessageParams,
          response: { 200: jsonAnswer('the versions, oldest first', versionsSchema), ...pageErrors },
        },
      },
      async (req) => {
        const { roomId, messageId } = req.params;
        const versions = await afterAccess(access.authorize(requireToken(req), roomId), reads.versions(roomId, idOf(messageId)));
        if (!versions) throw notFound();
        return { message_id: messageId, versions };
      },
    );
    const ThreadQuery = z.strictObject({
      limit: limitParam(limits),
      after_id: messageIdText.optional().meta({ description: 'exclusive: the replies after this one (the last of the previous page)' }),
    });
    routes.get(
      '/v1/rooms/:roomId/messages/:messageId/thread',
      {
        ...tokenFirst,
        schema: {
          summary: 'The replies to a message, oldest first, page by page',
          security: sessionSecurity,
          params: MessageParams,
          querystring: ThreadQuery,
          response: { 200: jsonAnswer('a page of the thread; continue with `after_id` = the last id while `has_more`', threadPageSchema), ...pageErrors },
        },
      },
      async (req) => {
        const { roomId, messageId } = req.params;
        const { userId } = await access.authorize(requireToken(req), roomId);
        const afterId = req.query.after_id === undefined ? undefined : idOf(req.query.after_id);
        const [parent, page] = await Promise.all([
          reads.one(roomId, idOf(messageId), userId),
          reads.thread(roomId, idOf(messageId), { limit: req.query.limit ?? limits.defaultLimit, ...(afterId === undefined ? {} : { afterId }) }, userId),
        ]);
        if (!parent || !page) throw notFound();
        return { parent, messages: page.messages, has_more: page.hasMore };
      },
    );
    const MentionsQuery = z.strictObject({
      limit: limitParam(limits),
      cursor: z.string().optional().meta({ description: '`next_cursor` of the previous page (opaque)' }),
    });
    routes.get(
      '/v1/mentions',
      {
        ...tokenFirst,
        schema: {
          summary: 'Messages that mention the caller, newest first, in the rooms the caller is a member of',
          security: sessionSecurity,
          querystring: MentionsQuery,
          response: { 200: pageAnswerOf(), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
        },
      },
      async (req) => {
        const { userId } = await access.identify(requireToken(req));
        const fingerprint = queryFingerprint({ roomId: '*', mention: userId, order: 'newest' });
        let afterId: bigint | undefined;
        if (req.query.cursor !== undefined) {
          const cursor = decodeCursor(req.query.cursor);
          if (cursor.fingerprint !== fingerprint) throw new ParleyError('VALIDATION_FAILED', 'cursor belongs to a different query; drop it');
          afterId = cursor.id;
        }
        const limit = req.query.limit ?? limits.defaultLimit;
        const found = await search.search({ mentionId: userId, order: 'newest', limit, afterId });
        // Only rooms the caller is still a member of; each room asked once.
        const rooms = [...new Set(found.messages.map((m) => m.room_id))];
        const allowed = new Set<string>();
        await Promise.all(rooms.map((r) => access.requireMember(r, userId).then(() => allowed.add(r), () => undefined)));
        const visible = found.messages.filter((m) => allowed.has(m.room_id));
        const last = found.messages.at(-1);
        const next = found.hasMore && last ? encodeCursor({ id: BigInt(last.id), order: 'newest', fingerprint }) : null;
        return { messages: await hydrate(reads, visible, userId), next_cursor: next };
      },
    );
  });
}

/** Rooms whose unread counts one `GET /v1/unread` gives (a user's newest rooms first). */
export const UNREAD_MAX_ROOMS = 1000;

/**
 * Read marks and what they give: `PUT /v1/rooms/{roomId}/read` moves the caller's mark forward
 * (Cassandra keeps the largest, cql/0003), `GET .../messages/{id}/readers` says who has read a
 * message, `GET /v1/unread` counts per room what is unread after the mark (Elasticsearch, one
 * request for all the caller's rooms).
 */
export function registerReadRoutes(app: FastifyInstance, deps: { access: RoomAccess; reads: MessageReads; search: MessageSearch; marks: ReadMarks }): void {
  const { access, reads, search, marks } = deps;
  registerRoutes(app, (routes) => {
    routes.put(
      '/v1/rooms/:roomId/read',
      {
        ...tokenFirst,
        schema: {
          summary: 'Mark the room read up to a message (the mark only moves forward)',
          description: 'A mark older than the one held changes nothing and answers the one held. 404 for a message that is not (or not yet) stored in this room.',
          security: sessionSecurity,
          params: RoomParams,
          body: readMarkBodySchema,
          response: { 200: jsonAnswer('the mark now', readMarkSchema), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE', ...bodyErrors) },
        },
      },
      async (req) => {
        const { roomId } = req.params;
        const id = parseMessageId(req.body.message_id);
        if (id === undefined) throw new ParleyError('VALIDATION_FAILED', 'message_id must be a message id (positive int64 as a decimal string)');
        return { room_id: roomId, read_up_to: (await marks.mark(requireToken(req), roomId, id)).readUpTo.toString() };
      },
    );
    routes.get(
      '/v1/rooms/:roomId/messages/:messageId/readers',
      {
        ...tokenFirst,
        schema: {
          summary: 'Who has read a message: the members (not its author) whose mark is at or after it',
          description: `The user ids are listed for rooms with at most ${READERS_LISTED_UP_TO} read marks; beyond that, the count alone.`,
          security: sessionSecurity,
          params: MessageParams,
          response: { 200: jsonAnswer('the readers', readersSchema), ...pageErrors },
        },
      },
      async (req) => {
        const { roomId, messageId } = req.params;
        const id = parseMessageId(messageId)!;
        const [message, marks] = await afterAccess(access.authorize(requireToken(req), roomId), Promise.all([reads.one(roomId, id), reads.roomReads(roomId)]));
        if (!message) throw new ParleyError('NOT_FOUND', 'no such message in this room');
        const readers = [...marks].filter(([user, mark]) => mark >= id && user !== message.sender_id).map(([user]) => user).sort();
        return { message_id: messageId, count: readers.length, ...(marks.size <= READERS_LISTED_UP_TO ? { readers } : {}) };
      },
    );
    routes.get(
      '/v1/unread',
      {
        ...tokenFirst,
        schema: {
          summary: "The caller's rooms with their unread messages and unread mentions",
          description: `Per room (the newest ${UNREAD_MAX_ROOMS} of the caller's): messages after the caller's read mark that are not theirs and not deleted, and those that mention them. Counted by search, so within its freshness (about a second).`,
          security: sessionSecurity,
          response: { 200: jsonAnswer('per room', unreadSchema), ...errorAnswers('UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
        },
      },
      async (req) => {
        const { userId } = await access.identify(requireToken(req));
        const [rooms, marks] = await Promise.all([access.memberships(userId, UNREAD_MAX_ROOMS), reads.marks(userId)]);
        const counts = await search.unread(userId, rooms.map((r) => ({ roomId: r.roomId, after: marks.get(r.roomId) })));
        return {
          rooms: rooms.map((r) => ({
            room_id: r.roomId,
            read_up_to: marks.get(r.roomId)?.toString() ?? null,
            messages: counts.get(r.roomId)?.messages ?? 0,
            mentions: counts.get(r.roomId)?.mentions ?? 0,
          })),
        };
      },
    );
  });
}

function pageAnswerOf() {
  return jsonAnswer('a page; follow `next_cursor` (null on the last one)', searchPageSchema);
}

/**
 * POST /v1/admin/erasures: an operator erases every message of one user (in every room, or in
 * one) or of one room, from both stores, for good (see Erasures). Authenticated by the operator
 * token (QUERY_ADMIN_TOKEN), not by a user's session; 403 when it is missing, wrong or unset.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: { adminToken: string; erasures: () => Erasures }): void {
  registerRoutes(app, (routes) =>
    routes.post(
      '/v1/admin/erasures',
      {
        preValidation: async (req: FastifyRequest) => {
          if (!isOperator(deps.adminToken, req.headers.authorization)) throw new ParleyError('FORBIDDEN', 'operator token required (Authorization: Bearer <QUERY_ADMIN_TOKEN>)');
        },
        schema: {
          summary: "Erase a user's or a room's messages from Cassandra and Elasticsearch (operator)",
          description:
            'Logs one erasure per room into the room\'s stream; both command workers apply it in the room\'s order and remember it, so no replay of the log brings the messages back. ' +
            'The answer counts what search held when it was logged; the stores are erased within the pipeline\'s lag.',
          security: [{ bearer: [] }],
          body: erasureRequestSchema,
          response: { 200: jsonAnswer('what was logged for erasure, per room', erasureReportSchema), ...errorAnswers('VALIDATION_FAILED', 'FORBIDDEN', 'DEPENDENCY_UNAVAILABLE') },
        },
      },
      (req) => deps.erasures().erase(req.body),
    ),
  );
}
