import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ParleyError } from '@parley/errors';
import { GrpcMembershipChecker, GrpcSessionValidator, type Caller } from '@parley/access';

export type { Caller } from '@parley/access';

/** Decides who may join a room: a valid session and a membership. */
export interface Gatekeeper {
  /** UNAUTHENTICATED for a bad session, DEPENDENCY_UNAVAILABLE/TIMEOUT when user-svc is away. */
  authenticate(token: string): Promise<Caller>;
  /** NOT_FOUND for an unknown room, FORBIDDEN for a non-member. */
  authorize(roomId: string, userId: string): Promise<void>;
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
 * user-svc's revocation bound, membership never cached, so a removed member cannot slip back in).
 * A revocation announced on NATS is refused at once, before the cached validation expires.
 */
export class GrpcGatekeeper implements Gatekeeper {
  private readonly sessions: GrpcSessionValidator;
  private readonly members: GrpcMembershipChecker;
  /** token hash → epoch ms until which it is refused here; insertion order = age. */
  private readonly revoked = new LRUCache<string, { until: number }>({ max: MAX_REVOKED });
  private readonly now: () => number;

  constructor(opts: { userAddr: string; roomAddr: string; cacheTtlMs: number; timeoutMs: number; now?: () => number }) {
    this.now = opts.now ?? Date.now;
    this.sessions = new GrpcSessionValidator({ address: opts.userAddr, cacheTtlMs: opts.cacheTtlMs, timeoutMs: opts.timeoutMs, now: this.now });
    this.members = new GrpcMembershipChecker({ address: opts.roomAddr, timeoutMs: opts.timeoutMs });
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
