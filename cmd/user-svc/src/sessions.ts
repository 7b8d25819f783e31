import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import { ParleyError } from '@parley/errors';
import { recordSessionRevoked } from './session-events.js';

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
}

export interface ValidatedSession {
  user: SessionUser;
  /** Epoch ms until which this answer may be reused: PostgreSQL confirmation time + cache TTL. */
  cacheUntilMs: number;
  /** When the session itself expires (epoch ms). */
  expiresAtMs: number;
}

/** A best-effort cache in front of PostgreSQL; every method may fail and callers carry on. */
export interface SessionCache {
  get(tokenHash: string): Promise<ValidatedSession | undefined>;
  set(tokenHash: string, value: ValidatedSession): Promise<void>;
  delete(tokenHash: string): Promise<void>;
}

/** Tokens are 32 random bytes in base64url: 43 characters, no padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Sessions live in PostgreSQL (the truth: only sha-256 of each token is stored) and are cached
 * in Redis for `cacheTtlMs`. A cached answer is never trusted past `cacheUntilMs`, which counts
 * from the PostgreSQL read, so a revoked session is refused everywhere within cacheTtlMs even
 * when the cache delete at logout failed.
 */
export class SessionService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly cache: SessionCache,
    private readonly ttlSeconds: number,
    private readonly cacheTtlMs: number,
    /** SESSION_EVENTS_PREFIX: where the outbox relay announces revocations. */
    private readonly eventsPrefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(userId: string): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const rs = await this.pool.query<{ expires_at: Date }>(
      "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3 * interval '1 second') RETURNING expires_at",
      [hashToken(token), userId, this.ttlSeconds],
    );
    return { token, expiresAt: rs.rows[0]!.expires_at };
  }

  async validate(token: string): Promise<ValidatedSession> {
    if (!TOKEN_PATTERN.test(token)) throw unauthenticated();
    const hash = hashToken(token);
    const key = hash.toString('hex');
    const cached = await this.cache.get(key);
    if (cached && cached.cacheUntilMs > this.now()) return cached;
    const readAt = this.now();
    const rs = await this.pool.query<{ id: string; username: string; display_name: string; expires_at: Date }>(
      `SELECT u.id, u.username, u.display_name, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`,
      [hash],
    );
    const row = rs.rows[0];
    if (!row) throw unauthenticated();
    const session: ValidatedSession = {
      user: { id: row.id, username: row.username, displayName: row.display_name },
      cacheUntilMs: Math.min(readAt + this.cacheTtlMs, row.expires_at.getTime()),
      expiresAtMs: row.expires_at.getTime(),
    };
    if (this.cacheTtlMs > 0) await this.cache.set(key, session);
    return session;
  }

  /**
   * Revokes in PostgreSQL (the truth) together with its announcement in session_outbox, so
   * edges learn of every committed revocation even if NATS or this process is down; then drops
   * the cached copy. False when unknown.
   */
  async revoke(token: string): Promise<boolean> {
    if (!TOKEN_PATTERN.test(token)) return false;
    const hash = hashToken(token);
    const c = await this.pool.connect();
    let revoked = false;
    try {
      await c.query('BEGIN');
      const rs = await c.query<{ user_id: string }>(
        'UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING user_id',
        [hash],
      );
      const row = rs.rows[0];
      if (row) await recordSessionRevoked(c, this.eventsPrefix, row.user_id, hash);
      await c.query('COMMIT');
      revoked = row !== undefined;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
    await this.cache.delete(hash.toString('hex'));
    return revoked;
  }
}

function unauthenticated(): ParleyError {
  return new ParleyError('UNAUTHENTICATED', 'invalid or expired session');
}

/** Redis-backed SessionCache; failures are reported and swallowed so PostgreSQL answers instead. */
export class RedisSessionCache implements SessionCache {
  constructor(
    private readonly redis: Redis,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  async get(tokenHash: string): Promise<ValidatedSession | undefined> {
    try {
      const raw = await this.redis.get(`session:${tokenHash}`);
      if (!raw) return undefined;
      const value = JSON.parse(raw) as Partial<ValidatedSession>;
      // An entry cached by an older version lacks fields: a miss, so PostgreSQL answers.
      return typeof value.expiresAtMs === 'number' && typeof value.cacheUntilMs === 'number' && value.user ? (value as ValidatedSession) : undefined;
    } catch (err) {
      this.onError(err);
      return undefined;
    }
  }

  async set(tokenHash: string, value: ValidatedSession): Promise<void> {
    const ms = value.cacheUntilMs - this.now();
    if (ms <= 0) return;
    try {
      await this.redis.set(`session:${tokenHash}`, JSON.stringify(value), 'PX', ms);
    } catch (err) {
      this.onError(err);
    }
  }

  async delete(tokenHash: string): Promise<void> {
    try {
      await this.redis.del(`session:${tokenHash}`);
    } catch (err) {
      this.onError(err);
    }
  }
}
