import {
  canonicalUuid,
  errorBodySchema,
  latestPageSchema,
  memberSchema,
  messageSchema,
  parseMessageId,
  presenceMemberSchema,
  readersSchema,
  readMarkSchema,
  ROOM_ROLES,
  roomSchema,
  searchPageSchema,
  sessionSchema,
  threadPageSchema,
  unreadSchema,
  userPresenceSchema,
  userSchema,
  versionsSchema,
  type LatestPage,
  type Member,
  type Message,
  type PresenceMember,
  type Readers,
  type ReadMark,
  type Room,
  type RoomRole,
  type RoomVisibility,
  type SearchPage,
  type Session,
  type ThreadPage,
  type Unread,
  type User,
  type UserPresence,
  type Versions,
} from '@parley/contracts';
import { ApiError, CLIENT_ERROR_CODES } from './errors.js';

/** Base URLs of the REST services (no trailing slash). */
export interface RestEndpoints {
  users: string;
  rooms: string;
  query: string;
  /** The edge's HTTP side (presence); without it the presence calls refuse. */
  realtime?: string;
}

/** What `make up` starts, as a terminal or a test on the same host reaches it. */
export const DEFAULT_ENDPOINTS: RestEndpoints = { users: 'http://127.0.0.1:8001', rooms: 'http://127.0.0.1:8002', query: 'http://127.0.0.1:8004', realtime: 'http://127.0.0.1:8003' };

/** The services behind web-gateway (docs/web.md); `origin` '' means the page's own origin. */
export function gatewayEndpoints(origin = ''): RestEndpoints {
  return { users: `${origin}/api/users`, rooms: `${origin}/api/rooms`, query: `${origin}/api/query`, realtime: `${origin}/api/realtime` };
}


export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface RestClientOptions {
  endpoints: RestEndpoints;
  /**
   * 'bearer' (default): the session token travels in `Authorization`; `login` keeps the token it
   * got. 'cookie': a page on the gateway's origin, where the HttpOnly `parley_session` cookie
   * set by login travels by itself and no script holds the token.
   */
  auth?: 'bearer' | 'cookie';
  token?: string;
  fetch?: FetchLike;
  /** Per request; 0 = none. */
  timeoutMs?: number;
}

export const DEFAULT_REST_TIMEOUT_MS = 30_000;

export interface LatestOptions {
  limit?: number;
  /** The page just before this id (scrolling back). */
  beforeId?: string;
  /** The page just after this id (catching up). */
  afterId?: string;
}

export interface PageOptions {
  limit?: number;
  /** `next_cursor` of the previous page of the same query. */
  cursor?: string;
  order?: 'newest' | 'oldest';
  sender?: string;
  /** Only messages whose current body mentions this user (a user id). */
  mention?: string;
  /** Epoch ms or RFC 3339. */
  from?: string | number;
  to?: string | number;
}

export interface ThreadOptions {
  limit?: number;
  /** The replies after this one: the last id of the previous page. */
  afterId?: string;
}

export interface MentionsOptions {
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

type Service = keyof RestEndpoints;

/**
 * The REST calls a chat client needs, against user-svc, room-svc and chat-query-svc, typed with
 * the answers of @parley/contracts. Every failure, network ones included, is an ApiError.
 */
export class RestClient {
  private tokenValue: string | undefined;
  private readonly fetchFn: FetchLike;
  private readonly auth: 'bearer' | 'cookie';

  constructor(private readonly opts: RestClientOptions) {
    this.auth = opts.auth ?? 'bearer';
    this.tokenValue = opts.token;
    // Called unbound, browsers refuse ("Illegal invocation").
    this.fetchFn = opts.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  /** The bearer token in use (undefined in cookie mode, and before login). */
  get token(): string | undefined {
    return this.tokenValue;
  }

  set token(value: string | undefined) {
    this.tokenValue = value;
  }

  get endpoints(): RestEndpoints {
    return this.opts.endpoints;
  }

  /** Creates the account; does not log in. */
  async register(username: string, password: string, displayName?: string): Promise<User> {
    const body = { username, password, ...(displayName ? { display_name: displayName } : {}) };
    return parse(userSchema, field(await this.call('users', 'POST', '/v1/users', body), 'user'), 'user');
  }

  async login(username: string, password: string): Promise<Session> {
    const s = parse(sessionSchema, await this.call('users', 'POST', '/v1/sessions', { username, password }), 'session');
    if (this.auth === 'bearer') this.tokenValue = s.token;
    return s;
  }

  /** Ends the session (the edge then closes its sockets with 4401). */
  async logout(): Promise<void> {
    await this.call('users', 'DELETE', '/v1/sessions/current');
    this.tokenValue = undefined;
  }

  async me(): Promise<User> {
    return parse(userSchema, field(await this.call('users', 'GET', '/v1/me'), 'user'), 'user');
  }

  /** Rooms the caller belongs to (with `role`), or public rooms. */
  async listRooms(scope: 'mine' | 'public', limit = 100): Promise<Room[]> {
    return list(roomSchema, field(await this.call('rooms', 'GET', `/v1/rooms?${query({ scope, limit })}`), 'rooms'), 'rooms');
  }

  async getRoom(roomId: string): Promise<Room> {
    return parse(roomSchema, field(await this.call('rooms', 'GET', roomPath(roomId)), 'room'), 'room');
  }

  async createRoom(name: string, visibility: RoomVisibility): Promise<Room> {
    return parse(roomSchema, field(await this.call('rooms', 'POST', '/v1/rooms', { name, visibility }), 'room'), 'room');
  }

  /** Joins a public room; answers the caller's role (an owner stays owner). */
  async joinRoom(roomId: string): Promise<RoomRole> {
    const role = field(await this.call('rooms', 'POST', `${roomPath(roomId)}/join`), 'role');
    if (!(ROOM_ROLES as readonly unknown[]).includes(role)) throw invalidAnswer('join', `role ${String(role)}`);
    return role as RoomRole;
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.call('rooms', 'POST', `${roomPath(roomId)}/leave`);
  }

  /** Owner only; members' sockets get `room_deleted` and close 4404. */
  async deleteRoom(roomId: string): Promise<void> {
    await this.call('rooms', 'DELETE', roomPath(roomId));
  }

  async members(roomId: string): Promise<Member[]> {
    return list(memberSchema, field(await this.call('rooms', 'GET', `${roomPath(roomId)}/members`), 'members'), 'members');
  }

  /** The room, joined first when the caller is not a member yet (public rooms only). */
  async ensureMember(roomId: string): Promise<Room> {
    const room = await this.getRoom(roomId);
    if (room.role) return room;
    return { ...room, role: await this.joinRoom(roomId) };
  }

  /**
   * A page of messages oldest to newest from the store the edge's history comes from
   * (Cassandra): the newest page, or the one before `beforeId` / after `afterId`.
   */
  async latest(roomId: string, opts: LatestOptions = {}): Promise<LatestPage> {
    const qs = query({ limit: opts.limit, before_id: opts.beforeId, after_id: opts.afterId });
    return parse(latestPageSchema, await this.call('query', 'GET', `${roomPath(roomId)}/messages/latest${qs ? `?${qs}` : ''}`), 'messages/latest');
  }

  /** History from the search index (Elasticsearch), newest first unless `order: 'oldest'`. */
  async history(roomId: string, opts: PageOptions = {}): Promise<SearchPage> {
    const qs = query({ ...pageParams(opts) });
    return parse(searchPageSchema, await this.call('query', 'GET', `${roomPath(roomId)}/messages${qs ? `?${qs}` : ''}`), 'messages');
  }

  /** Full-text search; `highlights` hold HTML-escaped fragments with `<mark>` (see parseHighlight). */
  async search(roomId: string, text: string, opts: PageOptions = {}): Promise<SearchPage> {
    const qs = query({ q: text, ...pageParams(opts) });
    return parse(searchPageSchema, await this.call('query', 'GET', `${roomPath(roomId)}/search?${qs}`), 'search');
  }

  /** One message in its current state (Cassandra). */
  async message(roomId: string, messageId: string): Promise<Message> {
    return parse(messageSchema, await this.call('query', 'GET', messagePath(roomId, messageId)), 'message');
  }

  /** Every body the message had, oldest (version 1, the original) first; none once deleted. */
  async versions(roomId: string, messageId: string): Promise<Versions> {
    return parse(versionsSchema, await this.call('query', 'GET', `${messagePath(roomId, messageId)}/versions`), 'versions');
  }

  /** The parent and a page of its replies, oldest first; the next page: `afterId` = the last reply's id, while `has_more`. */
  async thread(roomId: string, messageId: string, opts: ThreadOptions = {}): Promise<ThreadPage> {
    if (opts.afterId !== undefined) checkMessageId(opts.afterId, 'afterId');
    const qs = query({ limit: opts.limit, after_id: opts.afterId });
    return parse(threadPageSchema, await this.call('query', 'GET', `${messagePath(roomId, messageId)}/thread${qs ? `?${qs}` : ''}`), 'thread');
  }

  /** Messages that mention the caller, newest first, in every room the caller belongs to (the search index). */
  async mentions(opts: MentionsOptions = {}): Promise<SearchPage> {
    const qs = query({ limit: opts.limit, cursor: opts.cursor });
    return parse(searchPageSchema, await this.call('query', 'GET', `/v1/mentions${qs ? `?${qs}` : ''}`), 'mentions');
  }

  /** The caller's direct room with another user, created on first use; the same pair always gets the same room. */
  async directRoom(userId: string): Promise<Room> {
    const id = canonicalUuid(userId);
    if (!id) throw new ApiError(0, CLIENT_ERROR_CODES.INVALID_ARGUMENT, `userId ${JSON.stringify(userId.slice(0, 40))} is not a user id (a UUID)`);
    return parse(roomSchema, field(await this.call('rooms', 'POST', '/v1/direct-rooms', { user_id: id }), 'room'), 'room');
  }

  /** Moves the caller's read mark forward to `messageId` (never back); answers the mark now. */
  async markRead(roomId: string, messageId: string): Promise<ReadMark> {
    checkMessageId(messageId, 'messageId');
    return parse(readMarkSchema, await this.call('query', 'PUT', `${roomPath(roomId)}/read`, { message_id: messageId }), 'read');
  }

  /** Who has read a message (members but its author whose mark is at or after it): a count, and the ids in rooms of few marks. */
  async readers(roomId: string, messageId: string): Promise<Readers> {
    return parse(readersSchema, await this.call('query', 'GET', `${messagePath(roomId, messageId)}/readers`), 'readers');
  }

  /** Per room of the caller: the read mark and the unread messages and mentions after it. */
  async unread(): Promise<Unread> {
    return parse(unreadSchema, await this.call('query', 'GET', '/v1/unread'), 'unread');
  }

  /** The members online in a room, on any edge (members only). */
  async roomPresence(roomId: string): Promise<PresenceMember[]> {
    return list(presenceMemberSchema, field(await this.call('realtime', 'GET', `${roomPath(roomId)}/presence`), 'online'), 'presence');
  }

  /** The caller's own status (the edge shows no one else's: rooms show who is online). */
  async userPresence(userId: string): Promise<UserPresence> {
    return parse(userPresenceSchema, await this.call('realtime', 'GET', `/v1/users/${encodeURIComponent(userId)}/presence`), 'presence');
  }

  private async call(svc: Service, method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.auth === 'bearer' && this.tokenValue) headers['authorization'] = `Bearer ${this.tokenValue}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_REST_TIMEOUT_MS;
    const init: RequestInit = {
      method,
      headers,
      credentials: this.auth === 'cookie' ? 'same-origin' : 'omit',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(timeoutMs > 0 ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
    };
    const base = this.opts.endpoints[svc];
    if (base === undefined) throw new ApiError(0, CLIENT_ERROR_CODES.INVALID_ARGUMENT, `no ${svc} endpoint configured (RestEndpoints.${svc})`);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(`${base}${path}`, init);
      text = await res.text();
    } catch (err) {
      throw new ApiError(0, CLIENT_ERROR_CODES.NETWORK, 'cannot reach the server', { cause: err });
    }
    const json = parseJson(text);
    if (!res.ok) throw errorFromAnswer(res, json, text);
    if (res.status === 204) return undefined;
    if (json === undefined) throw invalidAnswer(path, 'not JSON');
    return json;
  }
}

function errorFromAnswer(res: Response, json: unknown, text: string): ApiError {
  const parsed = errorBodySchema.safeParse(json);
  const details = parsed.success ? parsed.data.error.details : undefined;
  const header = Number(res.headers.get('retry-after'));
  const fromDetails = Number(details?.['retryAfterSeconds']);
  const seconds = Number.isFinite(header) && header > 0 ? header : Number.isFinite(fromDetails) && fromDetails > 0 ? fromDetails : undefined;
  if (!parsed.success) return new ApiError(res.status, CLIENT_ERROR_CODES.HTTP_ERROR, text.slice(0, 200) || res.statusText || `HTTP ${res.status}`, seconds ? { retryAfterMs: seconds * 1000 } : {});
  return new ApiError(res.status, parsed.data.error.code, parsed.data.error.message, { ...(seconds ? { retryAfterMs: seconds * 1000 } : {}), ...(details ? { details } : {}) });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function invalidAnswer(what: string, why: string): ApiError {
  return new ApiError(200, CLIENT_ERROR_CODES.INVALID_ANSWER, `unexpected answer from ${what}: ${why}`);
}

/** The one field an answer wraps its value in (`{"user":…}`, `{"rooms":[…]}`). */
function field(json: unknown, key: string): unknown {
  const value = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined;
  if (value === undefined || value === null) throw invalidAnswer(key, `no "${key}"`);
  return value;
}

function list<T>(schema: Schema<T>, json: unknown, what: string): T[] {
  if (!Array.isArray(json)) throw invalidAnswer(what, 'not a list');
  return json.map((item) => parse(schema, item, what));
}

/** What the SDK needs of a contracts schema (kept structural, so the SDK names no zod itself). */
interface Schema<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

function parse<T>(schema: Schema<T>, json: unknown, what: string): T {
  const r = schema.safeParse(json);
  if (!r.success) throw invalidAnswer(what, r.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '));
  return r.data;
}

function roomPath(roomId: string): string {
  return `/v1/rooms/${encodeURIComponent(roomId)}`;
}

/** The path of one message; an id that is not one is refused here, before any request. */
function messagePath(roomId: string, messageId: string): string {
  checkMessageId(messageId, 'messageId');
  return `${roomPath(roomId)}/messages/${messageId}`;
}

function checkMessageId(id: string, what: string): void {
  if (parseMessageId(id) === undefined) throw new ApiError(0, CLIENT_ERROR_CODES.INVALID_ARGUMENT, `${what} ${JSON.stringify(id.slice(0, 30))} is not a message id (a positive decimal number)`);
}

function pageParams(o: PageOptions): Record<string, string | number | undefined> {
  return { limit: o.limit, cursor: o.cursor, order: o.order, sender: o.sender, mention: o.mention, from: o.from, to: o.to };
}

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
}
