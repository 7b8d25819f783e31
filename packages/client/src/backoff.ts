/**
 * Reconnect delays: doubling from `initialMs` to `maxMs`, each spread by ±`jitter` so that the
 * sockets an edge restart cut all at once do not come back all at once.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: the delay is drawn from [base·(1−jitter), base·(1+jitter)]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8000, jitter: 0.25 };

/** Delay before reconnect attempt number `attempt` (0 = the first after a loss). */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(base * (1 - opts.jitter + 2 * opts.jitter * random()));
}
