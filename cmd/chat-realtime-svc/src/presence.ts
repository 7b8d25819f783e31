import type { Redis } from 'ioredis';
import type { EphemeralEvent, PresenceMember } from '@parley/contracts';
import type { Logger } from '@parley/log';
import type { EphemeralBus } from './ephemeral.js';

/**
 * Who is online in a room, across edges.
 *
 * Each edge counts its own sockets per (room, user). A user's first socket here makes them
 * "up" on this edge, their last one "down": only those transitions cost anything. Each is
 * written to Redis (`presence:room:<roomId>`, field `<userId> <edgeId>` → `{name, since}`) and
 * told to the room's other edges on the ephemeral subject. Every edge keeps, for the rooms it has
 * sockets in, a roster of user → the edges they are up on: the first edge makes them join, the
 * last one gone makes them leave, so two tabs on two edges are online once.
 *
 * An edge proves it lives by a Redis key (`presence:edge:<edgeId>`, EDGE_TTL_MS) it refreshes
 * every SWEEP_MS; every SWEEP_MS each edge also drops from its rosters (and from Redis) the
 * entries of edges whose key is gone. A SIGKILLed edge's users are therefore gone from every
 * roster within EDGE_TTL_MS + SWEEP_MS (the documented bound: 20 s).
 *
 * Redis down: the edge keeps its own sockets' presence and the transitions the other edges tell
 * it, but a joining socket's snapshot holds only what this edge knows (degraded, logged once);
 * chat is untouched. Diffs are gathered per room for DIFF_BATCH_MS, so a busy room's churn
 * costs each socket one frame per batch.
 */
export const EDGE_TTL_MS = 15_000;
export const SWEEP_MS = 5_000;
export const DIFF_BATCH_MS = 250;
/** How long "last seen" is kept after a user's last socket closed. */
const SEEN_KEEP_MS = 30 * 24 * 3600 * 1000;
/** A Redis call of presence that takes longer is given up (presence is never worth a stall). */
const REDIS_TIMEOUT_MS = 1_000;

interface Entry {
  name: string;
  since: number;
  edges: Set<string>;
}

export interface PresenceOut {
  /** `presence_diff` for the room's live sockets. */
  diff(roomId: string, joined: PresenceMember[], left: PresenceMember[]): void;
}

const roomKey = (roomId: string) => `presence:room:${roomId}`;
const edgeKey = (edgeId: string) => `presence:edge:${edgeId}`;
const seenKey = (userId: string) => `presence:seen:${userId}`;
/** Per user, per edge: in how many rooms the user is up there (a user's own status). */
const userKey = (userId: string) => `presence:user:${userId}`;
const field = (userId: string, edgeId: string) => `${userId} ${edgeId}`;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('redis presence call timed out')), REDIS_TIMEOUT_MS).unref())]);
}

export class Presence {
  /** Local sockets per room and user. */
  private readonly local = new Map<string, Map<string, { count: number; name: string; since: number }>>();
  /** Everyone online, per room with local sockets. */
  private readonly rosters = new Map<string, Map<string, Entry>>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly pending = new Map<string, { joined: Map<string, PresenceMember>; left: Map<string, PresenceMember> }>();
  private timer: NodeJS.Timeout | undefined;
  private degraded = false;

  constructor(
    private readonly deps: { redis: Redis; bus: EphemeralBus | undefined; edgeId: string; out: PresenceOut; log: Logger; now?: () => number },
  ) {}

  start(): void {
    void this.heartbeat();
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  /** Leaves every room as if each socket closed (a graceful stop): the others see them go at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [roomId, users] of this.local) for (const userId of [...users.keys()]) this.transition(roomId, userId, 'down', users.get(userId)!);
    await this.redis(() => this.deps.redis.del(edgeKey(this.deps.edgeId)));
  }

  /** A socket of `userId` opened in the room; resolves once the room's roster is known here. */
  async connect(roomId: string, userId: string, name: string): Promise<void> {
    const users = this.local.get(roomId) ?? new Map();
    this.local.set(roomId, users);
    const had = users.get(userId);
    if (had) had.count += 1;
    else {
      const entry = { count: 1, name, since: this.now() };
      users.set(userId, entry);
      this.transition(roomId, userId, 'up', entry);
    }
    await this.load(roomId);
  }

  disconnect(roomId: string, userId: string): void {
    const users = this.local.get(roomId);
    const had = users?.get(userId);
    if (!users || !had) return;
    had.count -= 1;
    if (had.count > 0) return;
    users.delete(userId);
    this.transition(roomId, userId, 'down', had);
    if (users.size === 0) {
      this.local.delete(roomId);
      this.rosters.delete(roomId);
      this.pending.delete(roomId);
    }
  }

  /** Everyone online in the room as this edge knows it, earliest first. */
  online(roomId: string): PresenceMember[] {
    return [...(this.rosters.get(roomId) ?? new Map<string, Entry>())]
      .map(([user_id, e]) => ({ user_id, name: e.name, since: e.since }))
      .sort((a, b) => a.since - b.since || (a.user_id < b.user_id ? -1 : 1));
  }

  /** The same from Redis for any room (REST): every live edge's entries, one per user. */
  async onlineIn(roomId: string): Promise<PresenceMember[]> {
    const entries = await this.snapshot(roomId);
    const users = new Map<string, PresenceMember>();
    for (const e of entries) {
      const had = users.get(e.userId);
      if (!had || e.since < had.since) users.set(e.userId, { user_id: e.userId, name: e.name, since: e.since });
    }
    return [...users.values()].sort((a, b) => a.since - b.since);
  }

  /** A user's status: online when up in some room on a live edge; else when last seen. */
  async status(userId: string): Promise<{ online: boolean; lastSeen: number | undefined }> {
    const [counts, seen] = await Promise.all([withTimeout(this.deps.redis.hgetall(userKey(userId))), withTimeout(this.deps.redis.get(seenKey(userId)))]);
    const edges = Object.entries(counts).filter(([, n]) => Number(n) > 0).map(([edge]) => edge);
    const online = (await this.alive(edges)).size > 0;
    return { online, lastSeen: online || !seen ? undefined : Number(seen) };
  }

  /** Another edge's (or this one's) transition, from the ephemeral subject. */
  onEvent(roomId: string, e: Extract<EphemeralEvent, { kind: 'presence' }>): void {
    const roster = this.rosters.get(roomId);
    if (!roster) return;
    if (e.state === 'up') this.add(roomId, roster, e.user_id, e.name, e.since, e.edge);
    else this.remove(roomId, roster, e.user_id, e.edge);
  }

  private transition(roomId: string, userId: string, state: 'up' | 'down', entry: { name: string; since: number }): void {
    const { edgeId } = this.deps;
    const event: EphemeralEvent = { kind: 'presence', user_id: userId, name: entry.name, since: entry.since, edge: edgeId, state };
    // Applied here at once (a room's own edge also hears it back from NATS: applying twice is a no-op).
    this.onEvent(roomId, event);
    this.deps.bus?.publish(roomId, event);
    void this.redis(() =>
      state === 'up'
        ? this.deps.redis.multi().hset(roomKey(roomId), field(userId, edgeId), JSON.stringify({ name: entry.name, since: entry.since })).hincrby(userKey(userId), edgeId, 1).exec()
        : this.deps.redis
            .multi()
            .hdel(roomKey(roomId), field(userId, edgeId))
            .hincrby(userKey(userId), edgeId, -1)
            .set(seenKey(userId), String(this.now()), 'PX', SEEN_KEEP_MS)
            .exec(),
    );
  }

  private add(roomId: string, roster: Map<string, Entry>, userId: string, name: string, since: number, edge: string): void {
    const had = roster.get(userId);
    if (had) {
      had.edges.add(edge);
      had.since = Math.min(had.since, since);
      return;
    }
    roster.set(userId, { name, since, edges: new Set([edge]) });
    this.queue(roomId, 'joined', { user_id: userId, name, since });
  }

  private remove(roomId: string, roster: Map<string, Entry>, userId: string, edge: string): void {
    const had = roster.get(userId);
    if (!had || !had.edges.delete(edge) || had.edges.size > 0) return;
    roster.delete(userId);
    this.queue(roomId, 'left', { user_id: userId, name: had.name, since: had.since });
  }

  /** The room's roster from Redis, once, when its first local socket arrives. */
  private load(roomId: string): Promise<void> {
    if (this.rosters.has(roomId) && !this.loading.has(roomId)) return Promise.resolve();
    const known = this.loading.get(roomId);
    if (known) return known;
    if (!this.rosters.has(roomId)) this.rosters.set(roomId, new Map());
    const roster = this.rosters.get(roomId)!;
    // Everyone this edge has up here already counts (its own 'up' may precede the snapshot).
    for (const [userId, e] of this.local.get(roomId) ?? []) {
      if (!roster.has(userId)) roster.set(userId, { name: e.name, since: e.since, edges: new Set([this.deps.edgeId]) });
    }
    const p = this.snapshot(roomId)
      .then((entries) => {
        for (const e of entries) {
          const had = roster.get(e.userId);
          if (had) {
            had.edges.add(e.edgeId);
            had.since = Math.min(had.since, e.since);
          } else roster.set(e.userId, { name: e.name, since: e.since, edges: new Set([e.edgeId]) });
        }
      })
      .catch((err: unknown) => this.degrade(err))
      .finally(() => this.loading.delete(roomId));
    this.loading.set(roomId, p);
    return p;
  }

  private async snapshot(roomId: string): Promise<Array<{ userId: string; edgeId: string; name: string; since: number }>> {
    const all = await withTimeout(this.deps.redis.hgetall(roomKey(roomId)));
    const entries = Object.entries(all).flatMap(([f, v]) => {
      const cut = f.indexOf(' ');
      try {
        const { name, since } = JSON.parse(v) as { name: string; since: number };
        return [{ userId: f.slice(0, cut), edgeId: f.slice(cut + 1), name: String(name), since: Number(since) }];
      } catch {
        return [];
      }
    });
    const alive = await this.alive([...new Set(entries.map((e) => e.edgeId))]);
    return entries.filter((e) => alive.has(e.edgeId));
  }

  private async alive(edges: string[]): Promise<Set<string>> {
    if (edges.length === 0) return new Set();
    const values = await withTimeout(this.deps.redis.mget(...edges.map(edgeKey)));
    return new Set(edges.filter((_, i) => values[i] !== null || edges[i] === this.deps.edgeId));
  }

  private async heartbeat(): Promise<void> {
    await this.redis(() => this.deps.redis.set(edgeKey(this.deps.edgeId), '1', 'PX', EDGE_TTL_MS));
  }

  /** Refreshes this edge's key and drops other edges that stopped refreshing theirs. */
  private async sweep(): Promise<void> {
    await this.heartbeat();
    const edges = new Set<string>();
    for (const roster of this.rosters.values()) for (const e of roster.values()) for (const edge of e.edges) if (edge !== this.deps.edgeId) edges.add(edge);
    if (edges.size === 0) return;
    let alive: Set<string>;
    try {
      alive = await this.alive([...edges]);
    } catch (err) {
      return this.degrade(err);
    }
    for (const [roomId, roster] of this.rosters) {
      for (const [userId, e] of [...roster]) {
        for (const edge of [...e.edges]) {
          if (edge === this.deps.edgeId || alive.has(edge)) continue;
          this.remove(roomId, roster, userId, edge);
          void this.redis(() => this.deps.redis.hdel(roomKey(roomId), field(userId, edge)));
        }
      }
    }
  }

  private queue(roomId: string, what: 'joined' | 'left', m: PresenceMember): void {
    let batch = this.pending.get(roomId);
    if (!batch) {
      batch = { joined: new Map(), left: new Map() };
      this.pending.set(roomId, batch);
      setTimeout(() => this.flush(roomId), DIFF_BATCH_MS).unref();
    }
    // A join and a leave within one batch cancel out.
    const other = what === 'joined' ? batch.left : batch.joined;
    if (other.delete(m.user_id)) return;
    batch[what].set(m.user_id, m);
  }

  private flush(roomId: string): void {
    const batch = this.pending.get(roomId);
    this.pending.delete(roomId);
    if (!batch || (batch.joined.size === 0 && batch.left.size === 0)) return;
    this.deps.out.diff(roomId, [...batch.joined.values()], [...batch.left.values()]);
  }

  private async redis<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const out = await withTimeout(fn());
      if (this.degraded) this.deps.log.info('presence: redis answers again');
      this.degraded = false;
      return out;
    } catch (err) {
      this.degrade(err);
      return undefined;
    }
  }

  private degrade(err: unknown): void {
    if (!this.degraded) this.deps.log.warn({ err }, 'presence degraded: redis unavailable (only this edge\'s members and live transitions are known)');
    this.degraded = true;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
