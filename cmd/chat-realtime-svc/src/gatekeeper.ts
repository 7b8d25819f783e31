import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ParleyError } from '@parley/errors';
import { CachedMembership, GrpcMembershipChecker, GrpcSessionValidator, type Caller } from '@parley/access';

export type { Caller } from '@parley/access';

/** Decides who may join a room: a valid session and a membership. */
export interface Gatekeeper {
  /** UNAUTHENTICATED for a bad session, DEPENDENCY_UNAVAILABLE/TIMEOUT when user-svc is away. */
  authenticate(token: string): Promise<Caller>;
  /** NOT_FOUND for an unknown room, FORBIDDEN for a non-member. */
  authorize(roomId: string, userId: string): Promise<void>;
  /** room-svc's event said the member left (`userId`) or the room is gone (no `userId`): ask again. */
  forgetMembership(roomId: string, userId?: string): void;
  /** user-svc announced that this session (sha-256 hex of its token) was revoked. */
  markRevoked(tokenHash: string): void;
  isRevoked(tokenHash: string): boolean;
  close(): void;
}

/**
 * How long an announced revocation is remembered: longer than any cached validation
 * (REALTIME_AUTH_CACHE_TTL_MS ≤ 30 s) and any admission in progress (two gRPC deadlines).
 */
const REVOKED_MEMORY_MS = 60_000;
const MAX_REVOKED = 10_000;

/**
 * user-svc and room-svc over gRPC (see @parley/access for the caching rules: sessions within
 * user-svc's revocation bound). A revocation announced on NATS is refused at once, before the
 * cached validation expires. "Member" answers are reused for `membershipCacheMs` while the
 * edge follows room-svc's events (`eventsLive`) and dropped by the removal or deletion event
 * itself (CachedMembership), so a join costs room-svc a question per member and room per
 * interval; a removed member is refused from the moment its event reaches this edge, the same
 * moment its open sockets are closed (RoomRegistry.onRoomEvent), and a socket admitted on an
 * answer that predates the event is closed on registration (closeIfGone).
 */
export class GrpcGatekeeper implements Gatekeeper {
  private readonly sessions: GrpcSessionValidator;
  private readonly members: CachedMembership;
  /** token hash → epoch ms until which it is refused here; insertion order = age. */
  private readonly revoked = new LRUCache<string, { until: number }>({ max: MAX_REVOKED });
  private readonly now: () => number;

  constructor(opts: { userAddr: string; roomAddr: string; cacheTtlMs: number; membershipCacheMs: number; eventsLive: () => boolean; timeoutMs: number; now?: () => number }) {
    this.now = opts.now ?? Date.now;
    this.sessions = new GrpcSessionValidator({ address: opts.userAddr, cacheTtlMs: opts.cacheTtlMs, timeoutMs: opts.timeoutMs, now: this.now });
    const roomSvc = new GrpcMembershipChecker({ address: opts.roomAddr, timeoutMs: opts.timeoutMs });
    this.members = new CachedMembership(roomSvc, { ttlMs: opts.membershipCacheMs, live: () => opts.membershipCacheMs > 0 && opts.eventsLive(), now: this.now });
  }

  forgetMembership(roomId: string, userId?: string): void {
    this.members.forget(roomId, userId);
  }

  authenticate(token: string): Promise<Caller> {
    if (this.isRevoked(createHash('sha256').update(token).digest('hex'))) return Promise.reject(new ParleyError('UNAUTHENTICATED', 'invalid or expired session'));
    return this.sessions.validate(token);
  }

  async authorize(roomId: string, userId: string): Promise<void> {
    await this.members.requireMember(roomId, userId);
  }

  markRevoked(tokenHash: string): void {
    this.revoked.set(tokenHash, { until: this.now() + REVOKED_MEMORY_MS });
  }

  isRevoked(tokenHash: string): boolean {
    return (this.revoked.get(tokenHash)?.until ?? 0) > this.now();
  }

  close(): void {
    this.sessions.close();
    this.members.close();
  }
}
