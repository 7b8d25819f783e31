import { createHash } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ParleyError } from '@parley/errors';
import { userV1, roomV1, fromGrpcError } from '@parley/proto';
import { LRUCache } from 'lru-cache';

/**
 * How every service other than user-svc and room-svc learns who is calling and whether they
 * may see a room. One implementation, so the revocation bound promised in docs/identity.md
 * holds in every service that caches.
 */
export interface Caller {
  id: string;
  username: string;
  displayName: string;
  /** When the caller's session expires (epoch ms; 0 when user-svc did not say). */
  sessionExpiresAtMs: number;
}

export interface SessionValidator {
  /** UNAUTHENTICATED for a bad session; DEPENDENCY_UNAVAILABLE/TIMEOUT when user-svc is away. */
  validate(token: string): Promise<Caller>;
  close(): void;
}

export interface MembershipChecker {
  /** NOT_FOUND for an unknown or deleted room, FORBIDDEN for a non-member. */
  requireMember(roomId: string, userId: string): Promise<{ role: string }>;
  /** Epoch ms of the room's creation (never changes, so cached). */
  roomCreatedAt(roomId: string): Promise<number>;
  close(): void;
}

const MAX_ENTRIES = 10_000;
export const DEFAULT_CALL_TIMEOUT_MS = 2000;

type Callback<T> = (err: ServiceError | null, res?: T) => void;

function call<T>(what: string, timeoutMs: number, fn: (md: Metadata, opts: { deadline: number }, cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn(new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) return reject(fromGrpcError(err, what));
      resolve(res!);
    });
  });
}

/** The project's one bounded cache: least recently used out at the size bound. */
function remember<V extends object>(cache: LRUCache<string, V>, key: string, value: V): void {
  cache.set(key, value);
}

export interface GrpcSessionValidatorOptions {
  address: string;
  /** Upper bound of reuse; user-svc's `cache_until_ms` may shorten it, never lengthen. */
  cacheTtlMs: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Asks user-svc and remembers positive answers until the earlier of `cacheTtlMs` and the
 * `cache_until_ms` user-svc granted, so a revoked token is refused here within user-svc's
 * documented bound. Failures are never cached. Keys are token hashes: no token sits in memory
 * longer than the request that carried it.
 */
export class GrpcSessionValidator implements SessionValidator {
  private readonly client: userV1.UserServiceClient;
  private readonly cache = new LRUCache<string, { caller: Caller; until: number }>({ max: MAX_ENTRIES });
  private readonly now: () => number;

  constructor(private readonly opts: GrpcSessionValidatorOptions) {
    this.client = new userV1.UserServiceClient(opts.address, credentials.createInsecure());
    this.now = opts.now ?? Date.now;
  }

  async validate(token: string): Promise<Caller> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.caller;
    this.cache.delete(key);
    const res = await call<userV1.ValidateSessionResponse>('user-svc', this.opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, (md, o, cb) =>
      this.client.validateSession({ token }, md, o, cb),
    );
    if (!res.user) throw new ParleyError('UNAUTHENTICATED', 'invalid or expired session');
    const caller = { id: res.user.id, username: res.user.username, displayName: res.user.displayName || res.user.username, sessionExpiresAtMs: res.expiresAtMs };
    const until = Math.min(this.now() + this.opts.cacheTtlMs, res.cacheUntilMs);
    if (until > this.now()) remember(this.cache, key, { caller, until });
    return caller;
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Usernames to user ids (user-svc FindUsers), for `@name` mentions. Answers, including "no such
 * user", are kept for `ttlMs`: a user registered since is mentionable after that, and a name
 * never changes owner (usernames are never reused).
 */
export class GrpcUserDirectory {
  private readonly client: userV1.UserServiceClient;
  private readonly cache: LRUCache<string, { id: string | null; until: number }>;

  constructor(private readonly opts: { address: string; ttlMs: number; timeoutMs?: number; now?: () => number }) {
    this.client = new userV1.UserServiceClient(opts.address, credentials.createInsecure());
    this.cache = new LRUCache({ max: MAX_ENTRIES });
  }

  /** The ids of the known names among `usernames` (lower case), in their order. */
  async idsOf(usernames: readonly string[]): Promise<string[]> {
    const now = (this.opts.now ?? Date.now)();
    const missing = usernames.filter((u) => (this.cache.get(u)?.until ?? 0) <= now);
    if (missing.length > 0) {
      const res = await call<userV1.FindUsersResponse>('user-svc', this.opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, (md, o, cb) =>
        this.client.findUsers({ usernames: missing }, md, o, cb),
      );
      const found = new Map(res.users.map((u) => [u.username.toLowerCase(), u.id]));
      for (const u of missing) this.cache.set(u, { id: found.get(u) ?? null, until: now + this.opts.ttlMs });
    }
    return usernames.map((u) => this.cache.get(u)?.id).filter((id): id is string => typeof id === 'string');
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Membership answers kept for a short while and dropped the moment the room's events say they
 * changed: a reader asking about the same room again and again (every page, every command)
 * costs room-svc one question per `ttlMs`, not one per request. The staleness bound: a removed
 * member or a deleted room loses access as soon as its event arrives (`forget`), and within
 * `ttlMs` whatever happens to the events (`live()` false: nothing is served from the cache).
 * Only "is a member" is kept; a refusal is asked again every time.
 */
export class CachedMembership implements MembershipChecker {
  private readonly cache = new LRUCache<string, { role: string; until: number }>({ max: MAX_ENTRIES });
  /** Counts forgets: an answer asked for before one arrived may predate it and is not kept. */
  private forgets = 0;

  constructor(
    private readonly inner: MembershipChecker,
    private readonly opts: { ttlMs: number; live: () => boolean; now?: () => number },
  ) {}

  async requireMember(roomId: string, userId: string): Promise<{ role: string }> {
    const key = `${roomId} ${userId}`;
    const now = (this.opts.now ?? Date.now)();
    const hit = this.cache.get(key);
    if (hit && hit.until > now && this.opts.live()) return { role: hit.role };
    const before = this.forgets;
    const answer = await this.inner.requireMember(roomId, userId);
    if (this.opts.live() && this.forgets === before) this.cache.set(key, { role: answer.role, until: now + this.opts.ttlMs });
    return answer;
  }

  roomCreatedAt(roomId: string): Promise<number> {
    return this.inner.roomCreatedAt(roomId);
  }

  /** A member removed (`userId`), or the whole room deleted (no `userId`). */
  forget(roomId: string, userId?: string): void {
    this.forgets += 1;
    if (userId !== undefined) {
      this.cache.delete(`${roomId} ${userId}`);
      return;
    }
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${roomId} `)) this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * Asks room-svc on every call: membership is never cached here (see CachedMembership), so a removed member loses access
 * at once. A room's creation time never changes and is cached (bounded in size).
 */
export class GrpcMembershipChecker implements MembershipChecker {
  private readonly client: roomV1.RoomServiceClient;
  private readonly createdAt = new LRUCache<string, { ms: number }>({ max: MAX_ENTRIES });

  constructor(private readonly opts: { address: string; timeoutMs?: number }) {
    this.client = new roomV1.RoomServiceClient(opts.address, credentials.createInsecure());
  }

  async requireMember(roomId: string, userId: string): Promise<{ role: string }> {
    const res = await call<roomV1.CheckMembershipResponse>('room-svc', this.opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, (md, o, cb) =>
      this.client.checkMembership({ roomId, userId }, md, o, cb),
    );
    if (!res.member) throw new ParleyError('FORBIDDEN', 'not a member of this room');
    return { role: res.role };
  }

  /** The rooms `userId` is a member of, newest first (at most `limit`). */
  async memberships(userId: string, limit: number): Promise<Array<{ roomId: string; role: string }>> {
    const res = await call<roomV1.ListMembershipsResponse>('room-svc', this.opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, (md, o, cb) =>
      this.client.listMemberships({ userId, limit }, md, o, cb),
    );
    return res.rooms.map((r) => ({ roomId: r.roomId, role: r.role }));
  }

  async roomCreatedAt(roomId: string): Promise<number> {
    const hit = this.createdAt.get(roomId);
    if (hit !== undefined) return hit.ms;
    const res = await call<roomV1.GetRoomResponse>('room-svc', this.opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, (md, o, cb) => this.client.getRoom({ roomId }, md, o, cb));
    const ms = Date.parse(res.room?.createdAt ?? '');
    if (!Number.isFinite(ms)) throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'room-svc returned a room without a creation time');
    remember(this.createdAt, roomId, { ms });
    return ms;
  }

  close(): void {
    this.client.close();
  }
}

export * from './token.js';
export * from './client-ip.js';
