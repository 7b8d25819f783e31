/**
 * A latency histogram that workers can fill cheaply and ship over IPC as one small array:
 * log-spaced buckets from 1 µs with a growth factor of 1.02, so every percentile it reports is
 * within 2 % of the true sample, whatever the number of samples (a saturation step can record
 * millions of deliveries; keeping them all would cost more than measuring them).
 */
export const GROWTH = 1.02;
const MIN_MS = 0.001;
/** Buckets up to ~ 1.1e3 s; anything slower lands in the last bucket. */
export const BUCKETS = 1050;
const LOG_GROWTH = Math.log(GROWTH);

export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

/** The upper bound of a bucket, in ms: the value percentiles report. */
export function bucketUpperMs(b: number): number {
  return MIN_MS * GROWTH ** b;
}

export class Histogram {
  readonly counts: number[];
  count = 0;
  maxMs = 0;

  constructor(counts?: number[]) {
    this.counts = counts ? [...counts] : new Array<number>(BUCKETS).fill(0);
    for (const c of this.counts) this.count += c;
  }

  record(ms: number): void {
    this.counts[bucketOf(ms)]! += 1;
    this.count += 1;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  merge(other: { counts: number[]; maxMs: number }): void {
    for (let i = 0; i < BUCKETS; i++) {
      const c = other.counts[i] ?? 0;
      this.counts[i]! += c;
      this.count += c;
    }
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  /** The smallest recorded bound below which a fraction `p` (0..1] of samples fall; NaN if empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperMs(i), this.maxMs);
    }
    return this.maxMs;
  }

  toJSON(): { counts: number[]; maxMs: number } {
    return { counts: this.counts, maxMs: this.maxMs };
  }
}
