import type pg from 'pg';
import { ParleyError } from '@parley/errors';
import { recordEvent } from './events.js';

export type Visibility = 'public' | 'private' | 'direct';
export type Role = 'owner' | 'member';

export interface Room {
  id: string;
  name: string;
  visibility: Visibility;
  ownerId: string;
  createdAt: Date;
}

interface RoomRow {
  id: string;
  name: string;
  visibility: Visibility;
  owner_id: string;
  created_at: Date;
}

const toRoom = (r: RoomRow): Room => ({ id: r.id, name: r.name, visibility: r.visibility, ownerId: r.owner_id, createdAt: r.created_at });
const notFound = () => new ParleyError('NOT_FOUND', 'room not found');
export const ownerOnly = () => new ParleyError('FORBIDDEN', 'only the room owner can do this');
const directFixed = () => new ParleyError('CONFLICT', 'a direct room is always between its two users: nobody can be added, removed, leave, rename or delete it');

/** The key of a direct room: the same for a pair whichever of them asks. */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * Rooms and memberships in PostgreSQL. Every change that emits an event runs in one
 * transaction with its outbox row, after locking the room row: the lock orders one room's
 * changes (and so its events) and makes a delete and a join on the same room serialize.
 * Deleted rooms are kept (deleted_at) and are NOT_FOUND for every read.
 */
export class PostgresRoomStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly eventsPrefix: string,
  ) {}

  async create(ownerId: string, name: string, visibility: Visibility): Promise<Room> {
    return this.tx(async (c) => {
      const rs = await c.query<RoomRow>('INSERT INTO rooms (name, visibility, owner_id) VALUES ($1, $2, $3) RETURNING *', [name, visibility, ownerId]);
      const room = toRoom(rs.rows[0]!);
      await c.query("INSERT INTO room_members (room_id, user_id, role) VALUES ($1, $2, 'owner')", [room.id, ownerId]);
      await recordEvent(c, this.eventsPrefix, { type: 'room.created', roomId: room.id, actorId: ownerId, data: { name, visibility, owner_id: ownerId } });
      return room;
    });
  }

  /**
   * The direct room of `userId` and `otherId`, created if they have none (both members). Idempotent
   * and race-free: the pair's key is unique, so concurrent calls meet on one room.
   */
  async direct(userId: string, otherId: string): Promise<{ room: Room; created: boolean }> {
    if (userId === otherId) throw new ParleyError('VALIDATION_FAILED', 'a direct room is between two different users');
    const key = directKey(userId, otherId);
    return this.tx(async (c) => {
      const rs = await c.query<RoomRow>(
        "INSERT INTO rooms (name, visibility, owner_id, dm_key) VALUES ('direct', 'direct', $1, $2) ON CONFLICT (dm_key) DO NOTHING RETURNING *",
        [userId, key],
      );
      if (!rs.rows[0]) {
        const found = await c.query<RoomRow>('SELECT * FROM rooms WHERE dm_key = $1', [key]);
        return { room: toRoom(found.rows[0]!), created: false };
      }
      const room = toRoom(rs.rows[0]);
      await recordEvent(c, this.eventsPrefix, { type: 'room.created', roomId: room.id, actorId: userId, data: { name: room.name, visibility: 'direct', owner_id: userId } });
      for (const member of [userId, otherId]) await this.insertMember(c, room.id, member, userId);
      return { room, created: true };
    });
  }

  async get(roomId: string): Promise<Room | undefined> {
    const rs = await this.pool.query<RoomRow>('SELECT * FROM rooms WHERE id = $1 AND deleted_at IS NULL', [roomId]);
    return rs.rows[0] ? toRoom(rs.rows[0]) : undefined;
  }

  /** The room and the user's role in it; NOT_FOUND when the room is unknown or deleted. */
  async access(roomId: string, userId: string): Promise<{ room: Room; role: Role | undefined }> {
    const rs = await this.pool.query<RoomRow & { role: Role | null }>(
      `SELECT r.*, m.role FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $2
        WHERE r.id = $1 AND r.deleted_at IS NULL`,
      [roomId, userId],
    );
    const row = rs.rows[0];
    if (!row) throw notFound();
    return { room: toRoom(row), role: row.role ?? undefined };
  }

  async listMine(userId: string, limit: number): Promise<Array<Room & { role: Role }>> {
    const rs = await this.pool.query<RoomRow & { role: Role }>(
      `SELECT r.*, m.role FROM room_members m JOIN rooms r ON r.id = m.room_id
        WHERE m.user_id = $1 AND r.deleted_at IS NULL ORDER BY r.created_at DESC, r.id LIMIT $2`,
      [userId, limit],
    );
    return rs.rows.map((r) => ({ ...toRoom(r), role: r.role }));
  }

  async listPublic(limit: number): Promise<Room[]> {
    const rs = await this.pool.query<RoomRow>(
      "SELECT * FROM rooms WHERE visibility = 'public' AND deleted_at IS NULL ORDER BY created_at DESC, id LIMIT $1",
      [limit],
    );
    return rs.rows.map(toRoom);
  }

  async members(roomId: string): Promise<Array<{ userId: string; role: Role; joinedAt: Date }>> {
    const rs = await this.pool.query<{ user_id: string; role: Role; joined_at: Date }>(
      "SELECT user_id, role, joined_at FROM room_members WHERE room_id = $1 ORDER BY role = 'owner' DESC, joined_at, user_id",
      [roomId],
    );
    return rs.rows.map((r) => ({ userId: r.user_id, role: r.role, joinedAt: r.joined_at }));
  }

  async rename(roomId: string, actorId: string, name: string): Promise<Room> {
    return this.tx(async (c) => {
      await this.lockForOwner(c, roomId, actorId);
      const rs = await c.query<RoomRow>('UPDATE rooms SET name = $2 WHERE id = $1 RETURNING *', [roomId, name]);
      return toRoom(rs.rows[0]!);
    });
  }

  async delete(roomId: string, actorId: string): Promise<void> {
    await this.tx(async (c) => {
      await this.lockForOwner(c, roomId, actorId);
      await c.query('UPDATE rooms SET deleted_at = now() WHERE id = $1', [roomId]);
      await recordEvent(c, this.eventsPrefix, { type: 'room.deleted', roomId, actorId, data: {} });
    });
  }

  /** Joining a public room; idempotent (a second join changes nothing and emits nothing). */
  async join(roomId: string, userId: string): Promise<Role> {
    return this.tx(async (c) => {
      const room = await this.lock(c, roomId);
      const existing = await this.roleIn(c, roomId, userId);
      if (existing) return existing;
      if (room.visibility !== 'public') throw new ParleyError('FORBIDDEN', 'private rooms are joined by invitation of the owner');
      await this.insertMember(c, roomId, userId, userId);
      return 'member';
    });
  }

  async leave(roomId: string, userId: string): Promise<void> {
    await this.tx(async (c) => {
      const room = await this.lock(c, roomId);
      const role = await this.roleIn(c, roomId, userId);
      if (!role) throw new ParleyError('FORBIDDEN', 'not a member of this room');
      if (room.visibility === 'direct') throw directFixed();
      if (role === 'owner') throw new ParleyError('CONFLICT', 'the owner cannot leave; delete the room instead');
      await this.deleteMember(c, roomId, userId, userId);
    });
  }

  /** The owner adds a member; idempotent. Returns whether the user was newly added. */
  async addMember(roomId: string, actorId: string, userId: string): Promise<boolean> {
    return this.tx(async (c) => {
      await this.lockForOwner(c, roomId, actorId);
      if (await this.roleIn(c, roomId, userId)) return false;
      await this.insertMember(c, roomId, userId, actorId);
      return true;
    });
  }

  async removeMember(roomId: string, actorId: string, userId: string): Promise<void> {
    await this.tx(async (c) => {
      await this.lockForOwner(c, roomId, actorId);
      const role = await this.roleIn(c, roomId, userId);
      if (!role) throw new ParleyError('NOT_FOUND', 'that user is not a member of this room');
      if (role === 'owner') throw new ParleyError('CONFLICT', 'the owner cannot be removed; delete the room instead');
      await this.deleteMember(c, roomId, userId, actorId);
    });
  }

  private async insertMember(c: pg.PoolClient, roomId: string, userId: string, actorId: string): Promise<void> {
    await c.query("INSERT INTO room_members (room_id, user_id, role) VALUES ($1, $2, 'member')", [roomId, userId]);
    await recordEvent(c, this.eventsPrefix, { type: 'room.member_added', roomId, actorId, data: { user_id: userId, role: 'member' } });
  }

  private async deleteMember(c: pg.PoolClient, roomId: string, userId: string, actorId: string): Promise<void> {
    await c.query('DELETE FROM room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
    await recordEvent(c, this.eventsPrefix, { type: 'room.member_removed', roomId, actorId, data: { user_id: userId } });
  }

  private async lock(c: pg.PoolClient, roomId: string): Promise<Room> {
    const rs = await c.query<RoomRow>('SELECT * FROM rooms WHERE id = $1 AND deleted_at IS NULL FOR UPDATE', [roomId]);
    if (!rs.rows[0]) throw notFound();
    return toRoom(rs.rows[0]);
  }

  private async lockForOwner(c: pg.PoolClient, roomId: string, actorId: string): Promise<Room> {
    const room = await this.lock(c, roomId);
    const role = await this.roleIn(c, roomId, actorId);
    if (room.visibility === 'direct') throw role ? directFixed() : new ParleyError('FORBIDDEN', 'not a member of this room');
    if (role !== 'owner') throw role ? ownerOnly() : new ParleyError('FORBIDDEN', 'not a member of this room');
    return room;
  }

  private async roleIn(c: pg.PoolClient, roomId: string, userId: string): Promise<Role | undefined> {
    const rs = await c.query<{ role: Role }>('SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId]);
    return rs.rows[0]?.role;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}
