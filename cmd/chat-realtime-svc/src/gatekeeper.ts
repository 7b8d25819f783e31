import { GrpcMembershipChecker, GrpcSessionValidator, type Caller } from '@parley/access';

export type { Caller } from '@parley/access';

/** Decides who may join a room: a valid session and a membership. */
export interface Gatekeeper {
  /** UNAUTHENTICATED for a bad session, DEPENDENCY_UNAVAILABLE/TIMEOUT when user-svc is away. */
  authenticate(token: string): Promise<Caller>;
  /** NOT_FOUND for an unknown room, FORBIDDEN for a non-member. */
  authorize(roomId: string, userId: string): Promise<void>;
  close(): void;
}

/**
 * user-svc and room-svc over gRPC (see @parley/access for the caching rules: sessions within
 * user-svc's revocation bound, membership never cached, so a removed member cannot slip back in).
 */
export class GrpcGatekeeper implements Gatekeeper {
  private readonly sessions: GrpcSessionValidator;
  private readonly members: GrpcMembershipChecker;

  constructor(opts: { userAddr: string; roomAddr: string; cacheTtlMs: number; timeoutMs: number; now?: () => number }) {
    this.sessions = new GrpcSessionValidator({ address: opts.userAddr, cacheTtlMs: opts.cacheTtlMs, timeoutMs: opts.timeoutMs, ...(opts.now ? { now: opts.now } : {}) });
    this.members = new GrpcMembershipChecker({ address: opts.roomAddr, timeoutMs: opts.timeoutMs });
  }

  authenticate(token: string): Promise<Caller> {
    return this.sessions.validate(token);
  }

  async authorize(roomId: string, userId: string): Promise<void> {
    await this.members.requireMember(roomId, userId);
  }

  close(): void {
    this.sessions.close();
    this.members.close();
  }
}
