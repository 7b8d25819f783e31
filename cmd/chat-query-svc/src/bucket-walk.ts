import type { Message } from '@parley/contracts';
import { bucketOf, firstIdAt, SNOWFLAKE_EPOCH_MS, DEFAULT_BUCKET_MS } from '@parley/envelope';

/** One stored message as the CQL table holds it (ids as bigint in code). */
/** A stored row is the contract's message itself: no second shape on the read path. */
export type StoredMessage = Message;

export type Direction = 'older' | 'newer';

/**
 * Reads one `(room_id, bucket)` partition. `older`: ids < bound, newest first. `newer`: ids >
 * bound, oldest first. At most `limit` rows.
 */
export interface PartitionReader {
  read(roomId: string, bucket: number, dir: Direction, bound: bigint, limit: number, readerId?: string): Promise<StoredMessage[]>;
}

export interface PageRequest {
  roomId: string;
  limit: number;
  beforeId?: bigint | undefined;
  afterId?: bigint | undefined;
  /** Whose view (`me` of reactions). */
  readerId?: string | undefined;
}

export interface Page {
  /** Oldest to newest. */
  messages: StoredMessage[];
  hasMore: boolean;
}

export interface WalkBounds {
  /** Room creation time (epoch ms): no message can live in an older bucket. */
  roomCreatedAtMs: number;
  /** This server's clock. */
  nowMs: number;
  /** Tolerance for ids ahead of our clock and for clocks behind the room's creation. */
  skewMs: number;
  bucketMs?: number;
}

const MAX_ID = (1n << 63n) - 1n;
/** Buckets read concurrently grow 1, 2, 4, 8: the first usually answers a "latest" page alone. */
const MAX_PARALLEL_BUCKETS = 8;

/**
 * The latest page, or the page before/after a cursor, walking `(room_id, bucket)` partitions
 * from the cursor's bucket towards the room's first bucket (older) or the current one (newer).
 * The walk is bounded on both sides by time, never by counting empty buckets: a room created
 * long ago with no messages costs (now - created) / bucketMs reads, issued in growing batches.
 */
export async function readPage(reader: PartitionReader, req: PageRequest, bounds: WalkBounds): Promise<Page> {
  const bucketMs = bounds.bucketMs ?? DEFAULT_BUCKET_MS;
  const lowest = bucketOf(firstIdAt(Math.max(SNOWFLAKE_EPOCH_MS, bounds.roomCreatedAtMs - bounds.skewMs)), bucketMs);
  const highest = bucketOf(firstIdAt(bounds.nowMs + bounds.skewMs), bucketMs);
  const want = req.limit + 1;
  let dir: Direction;
  let bound: bigint;
  let start: number;
  if (req.afterId !== undefined) {
    dir = 'newer';
    bound = req.afterId;
    start = Math.max(lowest, bucketOf(req.afterId, bucketMs));
  } else {
    dir = 'older';
    bound = req.beforeId ?? MAX_ID;
    start = req.beforeId === undefined ? highest : Math.min(highest, bucketOf(req.beforeId, bucketMs));
  }
  const step = dir === 'older' ? -1 : 1;
  const inRange = (b: number) => b >= lowest && b <= highest;
  const found: StoredMessage[] = [];
  let next = start;
  let width = 1;
  while (found.length < want && inRange(next)) {
    const batch: number[] = [];
    for (let i = 0; i < width && inRange(next); i++, next += step) batch.push(next);
    const need = want - found.length;
    // Each bucket may hold the whole remainder; results are used strictly in walk order.
    const results = await Promise.all(batch.map((b) => reader.read(req.roomId, b, dir, bound, need, req.readerId)));
    for (const rows of results) {
      for (const row of rows) {
        if (found.length === want) break;
        found.push(row);
      }
    }
    width = Math.min(width * 2, MAX_PARALLEL_BUCKETS);
  }
  const hasMore = found.length > req.limit;
  const page = found.slice(0, req.limit);
  if (dir === 'older') page.reverse();
  return { messages: page, hasMore };
}
