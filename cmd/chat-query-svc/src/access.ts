import { GrpcMembershipChecker, GrpcSessionValidator, type MembershipChecker } from '@parley/access';

/** What every read needs to know before it touches a message. */
export interface RoomAccess {
  /** The caller's user id. UNAUTHENTICATED, FORBIDDEN (not a member) or NOT_FOUND (no such room). */
  authorize(token: string, roomId: string): Promise<{ userId: string; role: string }>;
  /** The session's user alone (UNAUTHENTICATED); cached within user-svc's bound. */
  identify(token: string): Promise<{ userId: string }>;
  /** The rooms the user is a member of, newest first. */
  memberships(userId: string, limit: number): Promise<Array<{ roomId: string; role: string }>>;
  /** FORBIDDEN (not a member) or NOT_FOUND (no such room); the member's role otherwise. */
  requireMember(roomId: string, userId: string): Promise<{ role: string }>;
  /** Epoch ms of the room's creation: the oldest bucket a history walk must look at. */
  roomCreatedAt(roomId: string): Promise<number>;
  close(): void;
}

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
/**
 * user-svc (sessions) and room-svc (membership) over gRPC; the caching rules live in
 * @parley/access: sessions within user-svc's revocation bound, membership asked every call.
 */
export class GrpcRoomAccess implements RoomAccess {
  private readonly sessions: GrpcSessionValidator;
  private readonly members: MembershipChecker;

  /** `members` wraps room-svc's checker (CachedMembership); room-svc is asked directly without it. */
  constructor(
    opts: { userSvcAddr: string; roomSvcAddr: string; sessionTtlMs: number; members?: (roomSvc: MembershipChecker) => MembershipChecker },
    now: () => number = Date.now,
  ) {
    this.sessions = new GrpcSessionValidator({ address: opts.userSvcAddr, cacheTtlMs: opts.sessionTtlMs, now });
    const roomSvc = new GrpcMembershipChecker({ address: opts.roomSvcAddr });
    this.roomSvc = roomSvc;
    this.members = opts.members ? opts.members(roomSvc) : roomSvc;
  }

  private readonly roomSvc: GrpcMembershipChecker;

  memberships(userId: string, limit: number): Promise<Array<{ roomId: string; role: string }>> {
    return this.roomSvc.memberships(userId, limit);
  }

  async authorize(token: string, roomId: string): Promise<{ userId: string; role: string }> {
    const caller = await this.sessions.validate(token);
    const { role } = await this.members.requireMember(roomId, caller.id);
    return { userId: caller.id, role };
  }

  async identify(token: string): Promise<{ userId: string }> {
    return { userId: (await this.sessions.validate(token)).id };
  }

  requireMember(roomId: string, userId: string): Promise<{ role: string }> {
    return this.members.requireMember(roomId, userId);
  }

  roomCreatedAt(roomId: string): Promise<number> {
    return this.members.roomCreatedAt(roomId);
  }

  close(): void {
    this.sessions.close();
    this.members.close();
  }
}
