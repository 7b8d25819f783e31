import { createHash } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { userV1, roomV1, fromGrpcError } from '@parley/proto';
import { ParleyError } from '@parley/errors';

/** What every read needs to know before it touches a message. */
export interface RoomAccess {
  /** The caller's user id. UNAUTHENTICATED, FORBIDDEN (not a member) or NOT_FOUND (no such room). */
  authorize(token: string, roomId: string): Promise<{ userId: string }>;
  /** Epoch ms of the room's creation: the oldest bucket a history walk must look at. */
  roomCreatedAt(roomId: string): Promise<number>;
  close(): void;
}

const MAX_ENTRIES = 10_000;

/**
 * Runs a read alongside its access check and hands out the result only once access is
 * granted: the membership round trip no longer adds to the read's latency. An access failure
 * wins over a read failure, so a caller never learns more from an error than from a refusal.
 */
export async function afterAccess<T>(check: Promise<unknown>, read: Promise<T>): Promise<T> {
  const [granted, result] = await Promise.allSettled([check, read]);
  if (granted.status === 'rejected') throw granted.reason;
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
const CALL_TIMEOUT_MS = 2000;

/**
 * Asks user-svc (sessions) and room-svc (membership) over gRPC.
 *
 * Sessions are cached until the earlier of `sessionTtlMs` and the `cache_until_ms` user-svc
 * granted, which keeps revocation within the bound docs/identity.md promises. Membership is
 * asked on every call: a removed member loses access at once. A room's creation time never
 * changes, so it is cached without expiry (bounded in size).
 */
export class GrpcRoomAccess implements RoomAccess {
  private readonly users: userV1.UserServiceClient;
  private readonly rooms: roomV1.RoomServiceClient;
  private readonly sessions = new Map<string, { userId: string; until: number }>();
  private readonly createdAt = new Map<string, number>();
  private readonly sessionTtlMs: number;

  constructor(
    opts: { userSvcAddr: string; roomSvcAddr: string; sessionTtlMs: number },
    private readonly now: () => number = Date.now,
  ) {
    this.users = new userV1.UserServiceClient(opts.userSvcAddr, credentials.createInsecure());
    this.rooms = new roomV1.RoomServiceClient(opts.roomSvcAddr, credentials.createInsecure());
    this.sessionTtlMs = opts.sessionTtlMs;
  }

  async authorize(token: string, roomId: string): Promise<{ userId: string }> {
    const userId = await this.session(token);
    const res = await call<roomV1.CheckMembershipResponse>('room-svc', (md, opts, cb) => this.rooms.checkMembership({ roomId, userId }, md, opts, cb));
    if (!res.member) throw new ParleyError('FORBIDDEN', 'not a member of this room');
    return { userId };
  }

  async roomCreatedAt(roomId: string): Promise<number> {
    const hit = this.createdAt.get(roomId);
    if (hit !== undefined) return hit;
    const res = await call<roomV1.GetRoomResponse>('room-svc', (md, opts, cb) => this.rooms.getRoom({ roomId }, md, opts, cb));
    const ms = Date.parse(res.room?.createdAt ?? '');
    if (!Number.isFinite(ms)) throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'room-svc returned a room without a creation time');
    remember(this.createdAt, roomId, ms);
    return ms;
  }

  close(): void {
    this.users.close();
    this.rooms.close();
  }

  private async session(token: string): Promise<string> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.sessions.get(key);
    if (hit && hit.until > this.now()) return hit.userId;
    this.sessions.delete(key);
    const res = await call<userV1.ValidateSessionResponse>('user-svc', (md, opts, cb) => this.users.validateSession({ token }, md, opts, cb));
    if (!res.user) throw new ParleyError('UNAUTHENTICATED', 'invalid or expired session');
    const until = Math.min(this.now() + this.sessionTtlMs, res.cacheUntilMs);
    if (until > this.now()) remember(this.sessions, key, { userId: res.user.id, until });
    return res.user.id;
  }
}

type Callback<T> = (err: ServiceError | null, res?: T) => void;

function call<T>(what: string, fn: (md: Metadata, opts: { deadline: number }, cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn(new Metadata(), { deadline: Date.now() + CALL_TIMEOUT_MS }, (err, res) => {
      if (err) return reject(fromGrpcError(err, what));
      resolve(res!);
    });
  });
}

/** Insertion-ordered map as a crude LRU: evict the oldest entry at the size bound. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}
