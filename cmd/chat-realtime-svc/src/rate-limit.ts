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
 * Fixed windows in Redis (SET NX EX starts a window with its expiry, INCR counts, one MULTI for
 * both keys). When Redis is away the limiter fails open: chat keeps working through an outage,
 * and the per-socket in-flight cap and strike counter still stop a single abusive socket.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly limits: Record<'send' | 'join', SendLimits>,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async hit(kind: 'send' | 'join', userId: string, ip: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const l = this.limits[kind];
    const window = Math.floor(Date.now() / 1000 / l.windowSeconds);
    const uk = `rl:${kind}:u:${userId}:${window}`;
    const ik = `rl:${kind}:ip:${ip}:${window}`;
    try {
      const res = await this.redis.multi().set(uk, '0', 'EX', l.windowSeconds, 'NX').incr(uk).set(ik, '0', 'EX', l.windowSeconds, 'NX').incr(ik).exec();
      const users = Number(res?.[1]?.[1] ?? 0);
      const ips = Number(res?.[3]?.[1] ?? 0);
      const allowed = users <= l.perUser && ips <= l.perIp;
      const retryAfterMs = allowed ? 0 : (window + 1) * l.windowSeconds * 1000 - Date.now();
      return { allowed, retryAfterMs };
    } catch (err) {
      this.onError(err);
      return { allowed: true, retryAfterMs: 0 };
    }
  }
}
