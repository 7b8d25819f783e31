import type { Redis } from 'ioredis';

export interface SendLimits {
  perUser: number;
  perIp: number;
  windowSeconds: number;
}

/** Counts sends and joins across every edge instance. */
export interface RateLimiter {
  /** Counts one attempt for both keys; allowed only when both are within their limits. */
  hit(kind: 'send' | 'join', userId: string, ip: string): Promise<{ allowed: boolean; retryAfterMs: number }>;
}

/**
 * Both windows (user and IP) counted by one script, so a send costs one Redis command: the MULTI
 * it replaces was six (MULTI, SET NX EX and INCR per key, EXEC), each built, queued and answered
 * separately by the client. INCR starts a window at 1; the first hit gives it its expiry.
 */
const HIT_SCRIPT = `
local u = redis.call('INCR', KEYS[1])
if u == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local i = redis.call('INCR', KEYS[2])
if i == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
return {u, i}`;

type HitScript = (userKey: string, ipKey: string, windowSeconds: number) => Promise<[number, number]>;

/**
 * Fixed windows in Redis. When Redis is away the limiter fails open: chat keeps working through
 * an outage, and the per-socket in-flight cap and strike counter still stop a single abusive socket.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly count: HitScript;

  constructor(
    redis: Redis,
    private readonly limits: Record<'send' | 'join', SendLimits>,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL once after a SCRIPT FLUSH or restart;
    // the client's keyPrefix applies to KEYS as to any other command.
    if (!('parleyRateHit' in redis)) redis.defineCommand('parleyRateHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    this.count = (redis as unknown as { parleyRateHit: HitScript }).parleyRateHit.bind(redis);
  }

  async hit(kind: 'send' | 'join', userId: string, ip: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const l = this.limits[kind];
    const window = Math.floor(Date.now() / 1000 / l.windowSeconds);
    try {
      const [users, ips] = await this.count(`rl:${kind}:u:${userId}:${window}`, `rl:${kind}:ip:${ip}:${window}`, l.windowSeconds);
      const allowed = users <= l.perUser && ips <= l.perIp;
      const retryAfterMs = allowed ? 0 : (window + 1) * l.windowSeconds * 1000 - Date.now();
      return { allowed, retryAfterMs };
    } catch (err) {
      this.onError(err);
      return { allowed: true, retryAfterMs: 0 };
    }
  }
}
