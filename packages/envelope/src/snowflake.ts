import { parseMessageId } from '@parley/contracts';
/**
 * Time-ordered 64-bit message ids (snowflake layout), carried as BigInt in code and as decimal
 * strings in JSON (a JS number loses precision past 2^53).
 *
 *    63  62                                    22 21        12 11          0
 *   +---+----------------------------------------+------------+-------------+
 *   | 0 |  milliseconds since SNOWFLAKE_EPOCH_MS |  instance  |  sequence   |
 *   +---+----------------------------------------+------------+-------------+
 *         41 bits (~69 years)                      10 bits      12 bits
 *                                                  0..1023      0..4095 per ms
 *
 * Sorting ids sorts messages by the time they were assigned; ids from different instances
 * never collide as long as no two running generators share an instance number (see
 * InstanceLease, which hands those numbers out).
 */
export const SNOWFLAKE_EPOCH_MS = 1_704_067_200_000; // 2024-01-01T00:00:00Z
export const INSTANCE_BITS = 10;
export const SEQUENCE_BITS = 12;
export const MAX_INSTANCE = (1 << INSTANCE_BITS) - 1;
const MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1;
const TIME_SHIFT = BigInt(INSTANCE_BITS + SEQUENCE_BITS);

/** Discord's bucket width: ten days of one room fit comfortably in one CQL partition. */
export const DEFAULT_BUCKET_MS = 10 * 24 * 60 * 60 * 1000;

export interface SnowflakeOptions {
  instance: number;
  /** Injected for tests; defaults to Date.now. */
  now?: () => number;
}

export class Snowflake {
  readonly instance: number;
  private readonly now: () => number;
  private lastMs = -1;
  private sequence = 0;

  constructor(opts: SnowflakeOptions) {
    if (!Number.isInteger(opts.instance) || opts.instance < 0 || opts.instance > MAX_INSTANCE) {
      throw new RangeError(`snowflake instance must be an integer in 0..${MAX_INSTANCE}, got ${opts.instance}`);
    }
    this.instance = opts.instance;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Never returns an id smaller than the previous one. When the wall clock steps back (NTP)
   * or 4096 ids were issued within one millisecond, the generator borrows from the future:
   * it keeps counting on its own logical millisecond instead of blocking the caller. The
   * wall clock catches up with it, and `created_at` is off by at most the size of the step.
   */
  next(): bigint {
    const wall = this.now() - SNOWFLAKE_EPOCH_MS;
    if (wall < 0) throw new RangeError('clock is before the snowflake epoch');
    if (wall > this.lastMs) {
      this.lastMs = wall;
      this.sequence = 0;
    } else if (this.sequence < MAX_SEQUENCE) {
      this.sequence += 1;
    } else {
      this.lastMs += 1;
      this.sequence = 0;
    }
    return (BigInt(this.lastMs) << TIME_SHIFT) | (BigInt(this.instance) << BigInt(SEQUENCE_BITS)) | BigInt(this.sequence);
  }
}

/** Milliseconds since the Unix epoch at which `id` was assigned. */
export function timeOf(id: bigint): number {
  return Number(id >> TIME_SHIFT) + SNOWFLAKE_EPOCH_MS;
}

export function instanceOf(id: bigint): number {
  return Number((id >> BigInt(SEQUENCE_BITS)) & BigInt(MAX_INSTANCE));
}

/** The CQL time bucket of a message: which `(room_id, bucket)` partition holds it. */
export function bucketOf(id: bigint, bucketMs: number = DEFAULT_BUCKET_MS): number {
  return Math.floor(timeOf(id) / bucketMs);
}

/** The smallest id that could have been assigned at `ms`: the lower bound for range queries. */
export function firstIdAt(ms: number): bigint {
  return BigInt(Math.max(0, ms - SNOWFLAKE_EPOCH_MS)) << TIME_SHIFT;
}

/** A message id from its decimal text (the rule lives in @parley/contracts). */
export const parseId = parseMessageId;
