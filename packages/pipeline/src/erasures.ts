import type { Envelope } from '@parley/envelope';

/** One remembered erasure: the room's messages of `userId` (`*`: everyone's) up to `upTo`. */
export interface Erasure {
  roomId: string;
  userId: string;
  upTo: bigint;
}

/** How often a projection re-reads its erasures (another worker may have applied one). */
export const ERASURES_REFRESH_MS = 30_000;

/**
 * What a projection must not bring back: the erasures it applied or read from its store. An
 * event older than an erasure that covers it (a message of an erased user, or any change in an
 * erased room) is skipped, so a replay of the log, whole or in part, cannot revive what an
 * operator erased. Both command workers keep one, each filled from its own store.
 */
export class ErasureRegistry {
  private rooms = new Map<string, Map<string, bigint>>();
  private loadedAt: number | undefined;

  /** True when the registry should be read again from the store. */
  stale(now: number = Date.now()): boolean {
    return this.loadedAt === undefined || now - this.loadedAt >= ERASURES_REFRESH_MS;
  }

  /** Everything the store holds, replacing what was known. */
  replace(all: Iterable<Erasure>, now: number = Date.now()): void {
    this.rooms = new Map();
    for (const e of all) this.remember(e);
    this.loadedAt = now;
  }

  remember(e: Erasure): void {
    const room = this.rooms.get(e.roomId) ?? new Map<string, bigint>();
    const had = room.get(e.userId);
    if (had === undefined || e.upTo > had) room.set(e.userId, e.upTo);
    this.rooms.set(e.roomId, room);
  }

  covers(e: Envelope): boolean {
    const room = this.rooms.get(e.room_id);
    if (!room || e.kind === 'erase') return false;
    const all = room.get('*');
    if (e.kind === 'message') {
      const id = BigInt(e.id);
      const mine = room.get(e.sender_id);
      return (all !== undefined && id <= all) || (mine !== undefined && id <= mine);
    }
    return all !== undefined && BigInt(e.target_id) <= all;
  }
}
