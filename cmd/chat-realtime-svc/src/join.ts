import { firstIdAt, timeOf } from '@parley/envelope';
import { isParleyError } from '@parley/errors';
import type { Backlogged, HistorySource, RecentRead, RecentSource } from './history.js';

/**
 * What a joining socket receives before live frames. The join runs in this order:
 *
 *   1. the room's live subscription is active (RoomHub.acquire resolved after a NATS flush),
 *      and everything it delivers for this socket is buffered, not sent;
 *   2. history from chat-query-svc: the newest `limit`, or on resume what followed the resume
 *      floor (see `resumeFloor`);
 *   3. the recent tail from the JetStream stream over the whole span of 2 (from its oldest id,
 *      or the resume floor), for what the pipeline has not stored yet or stored out of order,
 *      read until a message the live buffer already holds (so nothing falls between 2 and 1);
 *   4. merge 2 and 3 by id (dedupe, sort): one history frame, oldest to newest; the room's
 *      feed first delivers (into the buffer) anything up to the last stream sequence 3 saw
 *      that it lost live (RoomHub.catchUp), so a later gap fill never repeats it;
 *   5. on resume, `message_updated` for the messages up to `last_id` that changed since about
 *      its time (from the store: complete at any age, not only within the stream's window);
 *   6. buffered live frames whose id the history frame did not carry, in arrival order, and
 *      buffered changes newer than the copy already sent;
 *   7. from then on the socket is subscribed to the room topic and gets live frames directly.
 */
export type Backlog =
  | { kind: 'history'; messages: Backlogged[]; hasMore: boolean; changed: Backlogged[]; changesTruncated: boolean }
  | { kind: 'unavailable'; code: string };

export interface BacklogDeps {
  history: HistorySource;
  recent: RecentSource | undefined;
  /** How far back the stream is read when history gave no floor. */
  lookbackMs: number;
  /** Most messages taken from the stream on one join. */
  maxRecent: number;
  now?: () => number;
  onRecentError?: (err: unknown) => void;
  /**
   * Resolves once the room's live feed delivered everything up to stream sequence `through`
   * (RoomHub.catchUp): what the stream read saw but the feed lost is delivered while the
   * socket still buffers, so it neither misses it nor gets it twice.
   */
  catchUp?: (roomId: string, through: number) => Promise<void>;
}

export interface JoinRequest {
  roomId: string;
  token: string;
  limit: number;
  lastId?: bigint;
  /** True when the live subscription already delivered this id to the joining socket. */
  isBuffered(id: bigint): boolean;
}

/** Edge instances' clocks differ a little; read the stream from a bit before the floor. */
const CLOCK_SKEW_MS = 2000;

/**
 * Ids are assigned by whichever edge took the send, so a room's stream order and id order can
 * disagree by the clock skew between edges: a message with a smaller id may be stored just
 * after one with a larger id. A client that saw the larger one and resumed strictly after it
 * would never see the smaller. So a resume starts CLOCK_SKEW_MS before `last_id`; the history
 * frame may repeat what the client already has, and clients drop repeats by id.
 */
export function resumeFloor(lastId: bigint): bigint {
  return firstIdAt(Math.max(0, timeOf(lastId) - CLOCK_SKEW_MS)) - 1n;
}

export async function loadBacklog(deps: BacklogDeps, req: JoinRequest): Promise<Backlog> {
  const floor = req.lastId === undefined ? undefined : resumeFloor(req.lastId);
  let page;
  let fromNewest = floor === undefined;
  try {
    page = await deps.history.list(req.roomId, req.token, {
      limit: req.limit,
      ...(floor === undefined ? {} : { afterId: floor }),
      ...(req.lastId === undefined ? {} : { changesAfterId: req.lastId }),
    });
    // More was missed than one page holds: start from the newest instead and tell the client
    // (has_more) that there is a hole it can fill through the REST history.
    if (floor !== undefined && page.hasMore) {
      const changes = { changed: page.changed, changesTruncated: page.changesTruncated };
      page = { ...(await deps.history.list(req.roomId, req.token, { limit: req.limit })), hasMore: true, ...changes };
      fromNewest = true;
    }
  } catch (err) {
    return { kind: 'unavailable', code: isParleyError(err) ? err.code : 'DEPENDENCY_UNAVAILABLE' };
  }
  // The store's page is trusted for nothing but the rows it holds: a command worker may have
  // made a newer row readable before an older one, so the stream is read over the page's
  // whole span (from its oldest row, or the resume floor), never only after its newest row.
  const tailFrom = fromNewest ? (minId(page.messages) ?? floor) : floor;
  const recent = await readRecent(deps, req, tailFrom);
  if (recent.throughSeq && deps.catchUp) {
    try {
      await deps.catchUp(req.roomId, recent.throughSeq);
    } catch (err) {
      deps.onRecentError?.(err);
    }
  }
  if (recent.overflowed) {
    // The stream held more since `tailFrom` than one join reads: what was read is a contiguous
    // run ending where live frames begin, so it alone forms the frame; older ones are in the
    // REST history (has_more).
    const tail = mergeById([], recent.messages, floor);
    return { kind: 'history', messages: tail.slice(Math.max(0, tail.length - req.limit)), hasMore: true, changed: page.changed, changesTruncated: page.changesTruncated };
  }
  const merged = mergeById(page.messages, recent.messages, floor);
  const changes = { changed: page.changed, changesTruncated: page.changesTruncated };
  if (req.lastId === undefined && merged.length > req.limit) {
    return { kind: 'history', messages: merged.slice(merged.length - req.limit), hasMore: true, ...changes };
  }
  return { kind: 'history', messages: merged, hasMore: page.hasMore, ...changes };
}

async function readRecent(deps: BacklogDeps, req: JoinRequest, from: bigint | undefined): Promise<RecentRead> {
  if (!deps.recent) return { messages: [], overflowed: false };
  try {
    if ((await deps.recent.newestId(req.roomId)) === undefined) return { messages: [], overflowed: false };
    const now = (deps.now ?? Date.now)();
    const since = from === undefined ? now - deps.lookbackMs : timeOf(from) - CLOCK_SKEW_MS;
    return await deps.recent.read(req.roomId, since, deps.maxRecent, (id) => req.isBuffered(id));
  } catch (err) {
    // The stream tail is a refinement; history and live still work without it.
    deps.onRecentError?.(err);
    return { messages: [], overflowed: false };
  }
}

function minId(list: readonly Backlogged[]): bigint | undefined {
  let min: bigint | undefined;
  for (const m of list) if (min === undefined || m.id < min) min = m.id;
  return min;
}

/**
 * Union by id, sorted ascending, keeping only ids after `after` when given. A message in both
 * keeps the copy with the later change (the store's has its edits; the stream's is as sent).
 */
export function mergeById(a: readonly Backlogged[], b: readonly Backlogged[], after?: bigint): Backlogged[] {
  const byId = new Map<bigint, Backlogged>();
  for (const m of [...b, ...a]) {
    if (after !== undefined && m.id <= after) continue;
    const had = byId.get(m.id);
    if (!had || had.changedAt <= m.changedAt) byId.set(m.id, m);
  }
  return [...byId.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}
