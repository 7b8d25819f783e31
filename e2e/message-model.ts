/**
 * What every message should look like, kept by a drill from what it sent and was acknowledged,
 * never from what a store or the projection code says. A drill compares both stores with it.
 *
 *   body       the original, or the body of the acknowledged edit with the newest event id
 *              ("an edit can never be overwritten by an older edit"); "" once deleted
 *   version    1 + the acknowledged edits (each client_msg_id acknowledged once counts once)
 *   deleted    an acknowledged delete (by the author, or by the room's owner)
 *   reactions  per emoji, the members whose newest acknowledged toggle of it is `on`; none once
 *              deleted. The drill keeps each (member, emoji, message) toggled by one socket with
 *              one toggle in flight, so the newest event id is also the last acknowledged one.
 *
 * A message a command may or may not have changed (refused for good after it was resent, so its
 * first attempt may have been logged) is `uncertain`: left out of the comparison and counted.
 */
export interface ExpectedState {
  body: string;
  version: number;
  deleted: boolean;
  /** emoji → count; emoji nobody holds are absent. */
  reactions: Record<string, number>;
}

interface Tracked {
  roomId: string;
  body: string;
  edits: Map<string, string>;
  deletes: Set<string>;
  /** `${member} ${emoji}` → the newest toggle. */
  toggles: Map<string, { eventId: bigint; on: boolean }>;
}

export interface Difference {
  store: 'cassandra' | 'elasticsearch';
  id: string;
  field: 'missing' | 'body' | 'version' | 'deleted' | 'reactions' | 'shell';
  expected: unknown;
  actual: unknown;
}

/** What a store holds of one message, in the fields the model speaks of. */
export interface StoredState {
  body: string;
  version: number;
  deleted: boolean;
  /** Absent for a store that does not keep reactions (Elasticsearch). */
  reactions?: Record<string, number>;
  /** A change whose message the store does not hold (Cassandra row without sender, ES shell). */
  shell?: boolean;
}

export class MessageModel {
  private readonly messages = new Map<string, Tracked>();
  private readonly unsure = new Set<string>();

  /** An acknowledged send. */
  sent(id: string, roomId: string, body: string): void {
    if (!this.messages.has(id)) this.messages.set(id, { roomId, body, edits: new Map(), deletes: new Set(), toggles: new Map() });
  }

  edited(targetId: string, eventId: string, body: string): void {
    this.get(targetId).edits.set(eventId, body);
  }

  deleted(targetId: string, eventId: string): void {
    this.get(targetId).deletes.add(eventId);
  }

  reacted(targetId: string, eventId: string, member: string, emoji: string, on: boolean): void {
    const t = this.get(targetId);
    const key = `${member} ${emoji}`;
    const id = BigInt(eventId);
    const prev = t.toggles.get(key);
    if (!prev || prev.eventId < id) t.toggles.set(key, { eventId: id, on });
  }

  uncertain(targetId: string): void {
    this.unsure.add(targetId);
  }

  has(id: string): boolean {
    return this.messages.has(id);
  }

  isDeleted(id: string): boolean {
    return (this.messages.get(id)?.deletes.size ?? 0) > 0;
  }

  get size(): number {
    return this.messages.size;
  }

  get uncertainCount(): number {
    return this.unsure.size;
  }

  ids(): string[] {
    return [...this.messages.keys()];
  }

  expected(id: string): ExpectedState | undefined {
    const t = this.messages.get(id);
    if (!t) return undefined;
    const deleted = t.deletes.size > 0;
    let body = t.body;
    let newest: bigint | undefined;
    for (const [eventId, b] of t.edits) {
      const e = BigInt(eventId);
      if (newest === undefined || e > newest) {
        newest = e;
        body = b;
      }
    }
    const reactions: Record<string, number> = {};
    if (!deleted) {
      for (const [key, toggle] of t.toggles) {
        if (!toggle.on) continue;
        const emoji = key.slice(key.indexOf(' ') + 1);
        reactions[emoji] = (reactions[emoji] ?? 0) + 1;
      }
    }
    return { body: deleted ? '' : body, version: 1 + t.edits.size, deleted, reactions };
  }

  /**
   * Every difference between a store and the model over `ids` (default: every message). A
   * store's entry missing, or a shell, is a difference; so is any field that does not match.
   */
  compare(store: Difference['store'], stored: ReadonlyMap<string, StoredState>, ids: Iterable<string> = this.messages.keys()): Difference[] {
    const out: Difference[] = [];
    for (const id of ids) {
      if (this.unsure.has(id)) continue;
      const want = this.expected(id);
      if (!want) continue;
      const got = stored.get(id);
      const diff = (field: Difference['field'], expected: unknown, actual: unknown) => out.push({ store, id, field, expected, actual });
      if (!got) {
        diff('missing', want, undefined);
        continue;
      }
      if (got.shell) {
        diff('shell', want, got);
        continue;
      }
      if (got.body !== want.body) diff('body', want.body, got.body);
      if (got.version !== want.version) diff('version', want.version, got.version);
      if (got.deleted !== want.deleted) diff('deleted', want.deleted, got.deleted);
      if (got.reactions !== undefined && !sameCounts(got.reactions, want.reactions)) diff('reactions', want.reactions, got.reactions);
    }
    return out;
  }

  private get(id: string): Tracked {
    const t = this.messages.get(id);
    if (!t) throw new Error(`the model does not know message ${id}: a change acknowledged for a message never acknowledged`);
    return t;
  }
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a).filter((k) => a[k]! > 0);
  const kb = Object.keys(b).filter((k) => b[k]! > 0);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

/** Differences summed by store and field, for a report line. */
export function summarize(diffs: readonly Difference[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of diffs) out[`${d.store}.${d.field}`] = (out[`${d.store}.${d.field}`] ?? 0) + 1;
  return out;
}
