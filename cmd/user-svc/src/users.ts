import type pg from 'pg';
import { ParleyError } from '@parley/errors';

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  createdAt: Date;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

const toUser = (r: UserRow): UserRecord => ({ id: r.id, username: r.username, displayName: r.display_name, createdAt: r.created_at });

/** Users in PostgreSQL; usernames are unique regardless of case (index on lower(username)). */
export class PostgresUserStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(username: string, displayName: string, passwordHash: string): Promise<UserRecord> {
    try {
      const rs = await this.pool.query<UserRow>(
        'INSERT INTO users (username, display_name, password_hash) VALUES ($1, $2, $3) RETURNING *',
        [username, displayName, passwordHash],
      );
      return toUser(rs.rows[0]!);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new ParleyError('CONFLICT', 'username is taken');
      throw err;
    }
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const rs = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rs.rows[0] ? toUser(rs.rows[0]) : undefined;
  }

  /** Users by username, any case; unknown names are left out. */
  async findByUsernames(usernames: readonly string[]): Promise<UserRecord[]> {
    if (usernames.length === 0) return [];
    const rs = await this.pool.query<UserRow>('SELECT * FROM users WHERE lower(username) = ANY($1::text[])', [usernames.map((u) => u.toLowerCase())]);
    return rs.rows.map(toUser);
  }

  /** Compare-and-set, so an upgrade computed from `previous` never overwrites a newer password. */
  async replacePasswordHash(id: string, previous: string, next: string): Promise<void> {
    await this.pool.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, previous, next]);
  }

  async findForLogin(username: string): Promise<{ user: UserRecord; passwordHash: string } | undefined> {
    const rs = await this.pool.query<UserRow>('SELECT * FROM users WHERE lower(username) = lower($1)', [username]);
    const row = rs.rows[0];
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }
}
