import { sleep } from './index.js';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

/**
 * Exponential backoff with full jitter, forever: the pipeline stalls while a store is away
 * and resumes on its own, it never skips. `signal` ends the wait (shutdown); the caller then
 * hands the work back uncommitted.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 5000;
  }

  get attempts(): number {
    return this.attempt;
  }

  nextDelayMs(): number {
    const cap = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 20));
    this.attempt += 1;
    return Math.max(this.initialMs / 2, Math.random() * cap);
  }

  wait(signal?: AbortSignal): Promise<void> {
    return sleep(this.nextDelayMs(), signal);
  }

  reset(): void {
    this.attempt = 0;
  }
}
