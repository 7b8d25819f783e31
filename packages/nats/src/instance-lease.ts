import type { JetStreamClient, KV } from 'nats';
import { ParleyError } from '@parley/errors';
import type { Component } from '@parley/lifecycle';
import { MAX_INSTANCE, Snowflake } from '@parley/envelope';
import { jsApiErrorCode, JS_WRONG_LAST_SEQUENCE } from './errors.js';

/**
 * Hands out snowflake instance numbers so no two running generators share one.
 *
 *   KV bucket <bucket> (ttl = ttlMs, history 1)
 *     key   instance.<n>        n in 0..1023
 *     value holder description   (host, pid, start time: for operators)
 *
 * Acquire: `create` (succeeds only if the key is absent, deleted or expired) on the numbers
 * in turn, from a random start. Keep: `update` at the revision we own every ttl/3; a wrong
 * revision means someone else took it. Release: delete at our revision.
 * The holder also stops issuing on its own once `ttlMs - safetyMs` passed since the last
 * successful refresh, so a partitioned instance stops before its number can be re-leased.
 */
export interface InstanceLeaseOptions {
  js: JetStreamClient;
  bucket?: string;
  ttlMs?: number;
  holder: string;
  /** Called once when the lease is lost; ids must not be issued afterwards. */
  onLost?: (err: Error) => void;
  now?: () => number;
}

export const DEFAULT_LEASE_BUCKET = 'parley_instances';
export const DEFAULT_LEASE_TTL_MS = 30_000;

export class InstanceLease implements Component {
  readonly name = 'instance-lease';
  private readonly opts: Required<Omit<InstanceLeaseOptions, 'onLost'>> & Pick<InstanceLeaseOptions, 'onLost'>;
  private kv: KV | undefined;
  private held: { n: number; revision: number; refreshedAt: number } | undefined;
  private lost: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The refresh in flight: one at a time, and stop() waits for it before releasing. */
  private refreshing: Promise<void> | undefined;

  constructor(opts: InstanceLeaseOptions) {
    this.opts = { bucket: DEFAULT_LEASE_BUCKET, ttlMs: DEFAULT_LEASE_TTL_MS, now: Date.now, ...opts };
  }

  /** The leased number; throws when the lease is not (or no longer) held. */
  get instance(): number {
    const h = this.held;
    if (this.lost) throw this.lost;
    if (!h) throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'no instance lease held');
    const safetyMs = this.opts.ttlMs / 3;
    if (this.opts.now() - h.refreshedAt > this.opts.ttlMs - safetyMs) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', `instance lease ${h.n} could not be refreshed in time`);
    }
    return h.n;
  }

  /** A generator bound to the lease: it refuses to issue ids once the lease is lost. */
  snowflake(): { next(): bigint } {
    const gen = new Snowflake({ instance: this.instance, now: this.opts.now });
    return {
      next: () => {
        if (this.instance !== gen.instance) throw new ParleyError('INTERNAL', 'instance lease changed under a generator');
        return gen.next();
      },
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    this.kv = await this.opts.js.views.kv(this.opts.bucket, { ttl: this.opts.ttlMs, history: 1 });
    const first = Math.floor(Math.random() * (MAX_INSTANCE + 1));
    for (let i = 0; i <= MAX_INSTANCE; i++) {
      if (signal.aborted) throw signal.reason;
      const n = (first + i) % (MAX_INSTANCE + 1);
      try {
        const revision = await this.kv.create(key(n), this.opts.holder);
        this.held = { n, revision, refreshedAt: this.opts.now() };
        this.timer = setInterval(() => void (this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined))), Math.max(50, Math.floor(this.opts.ttlMs / 3)));
        this.timer.unref();
        return;
      } catch (err) {
        if (!isTaken(err)) throw err;
      }
    }
    throw new ParleyError('DEPENDENCY_UNAVAILABLE', `all ${MAX_INSTANCE + 1} instance numbers are leased`);
  }

  private async refresh(): Promise<void> {
    const h = this.held;
    if (!h || !this.kv || this.lost) return;
    try {
      const revision = await this.kv.update(key(h.n), this.opts.holder, h.revision);
      if (this.held === h) this.held = { n: h.n, revision, refreshedAt: this.opts.now() };
    } catch (err) {
      if (!isTaken(err)) return; // NATS away: retried at the next tick; `instance` enforces the deadline.
      // Our entry is not at our revision. If it is gone (it expired while NATS was away longer
      // than the TTL), nobody holds the number: take it again, as a fresh start would. Ids are
      // not issued meanwhile (`instance` refuses once the lease is stale), so none can repeat.
      // Not after a stop: the entry is gone because stop() released it.
      if (this.held !== h) return;
      try {
        const revision = await this.kv.create(key(h.n), this.opts.holder);
        if (this.held !== h) {
          await this.kv.delete(key(h.n), { previousSeq: revision }).catch(() => undefined);
          return;
        }
        this.held = { n: h.n, revision, refreshedAt: this.opts.now() };
        return;
      } catch (again) {
        if (!isTaken(again)) return;
      }
      this.lost = new ParleyError('CONFLICT', `instance lease ${h.n} was taken by another holder`, { cause: err });
      clearInterval(this.timer);
      this.opts.onLost?.(this.lost);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    const h = this.held;
    this.held = undefined;
    if (!h || !this.kv || this.lost) return;
    try {
      await this.kv.delete(key(h.n), { previousSeq: h.revision });
    } catch {
      // The TTL frees the number anyway.
    }
  }
}

function key(n: number): string {
  return `instance.${n}`;
}

/** Someone else holds the key: the server's "wrong last sequence" (create and update alike). */
function isTaken(err: unknown): boolean {
  return jsApiErrorCode(err) === JS_WRONG_LAST_SEQUENCE;
}
