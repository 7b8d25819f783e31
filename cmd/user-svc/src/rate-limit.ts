import type { Redis } from 'ioredis';

export interface RateLimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one attempt against `key` and says whether it is within `limit` per window. */
  hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitDecision>;
}

/**
 * Fixed window counter: SET NX starts the window with its expiry, INCR counts, both in one
 * MULTI so a counter can never live without a TTL. When Redis is away the limiter fails open:
 * logging in matters more than throttling during an outage (the scrypt cost still slows
 * guessing).
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  async hit(key: string, limit: number, windowSeconds: number): Promise<RateLimitDecision> {
    try {
      const res = await this.redis.multi().set(key, '0', 'EX', windowSeconds, 'NX').incr(key).ttl(key).exec();
      const count = Number(res?.[1]?.[1] ?? 0);
      const ttl = Number(res?.[2]?.[1] ?? windowSeconds);
      return { allowed: count <= limit, retryAfterSeconds: ttl > 0 ? ttl : windowSeconds };
    } catch (err) {
      this.onError(err);
      return { allowed: true, retryAfterSeconds: 0 };
    }
  }
}
