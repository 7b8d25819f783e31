import type { PresenceMember } from '@parley/contracts';

/**
 * Who is online in one room, as the edge tells it: the `presence` frame after every (re)join
 * replaces the set (it is the whole truth at that moment, on any edge), `presence_diff` frames
 * move it on. A member is a user, however many sockets they hold: the edge sends a user once.
 */
export class PresenceRoster {
  private readonly byUser = new Map<string, PresenceMember>();

  reset(online: readonly PresenceMember[]): void {
    this.byUser.clear();
    for (const m of online) this.byUser.set(m.user_id, m);
  }

  /** Applies a diff; a user both left and joined in one batch (a quick reload) stays online. */
  apply(joined: readonly PresenceMember[], left: readonly PresenceMember[]): void {
    for (const m of left) this.byUser.delete(m.user_id);
    for (const m of joined) this.byUser.set(m.user_id, m);
  }

  has(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Online members, longest online first (then by name, so a list does not jump). */
  list(): PresenceMember[] {
    return [...this.byUser.values()].sort((a, b) => a.since - b.since || a.name.localeCompare(b.name));
  }

  get size(): number {
    return this.byUser.size;
  }
}
