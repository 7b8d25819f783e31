import type { JetStreamManager, Msg, MsgHdrs, NatsConnection, StoredMsg, Subscription } from 'nats';
import { roomFanoutSubject, roomSubject, roomUpdateSubject, fanoutPosition, type FanoutPosition } from '@parley/nats';

/**
 * What reaches an edge of its rooms: one core NATS subscription per room per edge, however
 * many local members, reference counted by the sockets in the room, on the subjects the
 * message stream republishes every stored message to (`<prefix>.fan.<roomId>.<msg|upd>`, see
 * messageStreamConfig in @parley/nats). Only what JetStream stored is republished, in stream
 * order, so a retried send reaches clients once and a refused one not at all, as with a
 * consumer, at the cost of a core subscription (interest in the server's subject tree) instead
 * of a consumer per room per edge.
 *
 * Core NATS is at most once: a message is lost to this edge when its connection drops, or when
 * the server cuts a slow client. Every republished message carries its stream sequence and the
 * sequence of the one before it on the same subject (Nats-Sequence, Nats-Last-Sequence), so a
 * loss shows as a gap: the room's next message names a predecessor this edge never saw. The hub
 * keeps, per room and subject, the last sequence it delivered (`seen`), and on a gap reads what
 * it missed from the stream (direct get, next message of the subject after `seen`) and delivers
 * it first; what arrives meanwhile waits behind it. A sequence at or below `seen` was delivered
 * already and is dropped. After a reconnect every room is checked against the stream's last
 * sequence of its subjects (`resync`), so a loss with no later message in the room is filled too.
 *
 * `acquire` resolves once the subscription is active on the server and `seen` holds the room's
 * last sequences from just before it, so anything stored afterwards reaches this edge; the join
 * algorithm relies on it, and `catchUp` lets a join that read the stream further than `seen`
 * have the hub deliver the difference before the socket goes live (see loadBacklog).
 */
export interface RoomHubHandlers {
  /**
   * `update`: an announcement of a change (.upd) rather than an event of the room's log (.msg);
   * `headers`: the stored message's NATS headers (its trace context).
   */
  onMessage(roomId: string, data: Uint8Array, update: boolean, headers?: MsgHdrs): void;
  /** Whether `onMessage` reads headers (tracing). */
  readonly wantsHeaders: boolean;
  /** The room's feed failed beyond repair (permissions, a gap the stream could not fill): members must resume elsewhere. */
  onLost(roomId: string, err: unknown): void;
}

/** What the hub counts, for /stats and metrics. */
export interface HubCounters {
  /** Messages read from the stream because the live copy never arrived. */
  filled: number;
  /** Live copies dropped as already delivered. */
  repeats: number;
  /** Reconnect checks run over all rooms. */
  resyncs: number;
}

/** nats.js has direct gets on its JetStream manager without declaring them on the interface. */
type DirectGets = JetStreamManager & {
  direct: { getMessage(stream: string, query: { last_by_subj: string } | { seq: number; next_by_subj: string }): Promise<StoredMsg> };
};

const MSG = 0;
const UPD = 1;
type Kind = typeof MSG | typeof UPD;

interface Pending {
  kind: Kind;
  position: FanoutPosition;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
}

interface Room {
  refs: number;
  sub: Subscription | undefined;
  ready: Promise<void>;
  /** Last stream sequence delivered, per subject (MSG, UPD). */
  seen: [number, number];
  /** While the room is being filled (or before its baseline is known): live messages wait here, in order. */
  waiting: Pending[] | undefined;
  /** The fill in progress, if any. */
  filling: Promise<void> | undefined;
  closed: boolean;
}

/** Rooms checked at once after a reconnect. */
const RESYNC_CONCURRENCY = 16;
/** Most messages one fill reads before giving the room up to a resume. */
const MAX_FILL = 10_000;

export class RoomHub {
  private readonly rooms = new Map<string, Room>();
  readonly counters: HubCounters = { filled: 0, repeats: 0, resyncs: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly handlers: RoomHubHandlers,
  ) {}

  acquire(roomId: string): Promise<void> {
    const existing = this.rooms.get(roomId);
    if (existing) {
      existing.refs += 1;
      return existing.ready;
    }
    const room: Room = { refs: 1, sub: undefined, ready: Promise.resolve(), seen: [0, 0], waiting: [], filling: undefined, closed: false };
    room.ready = this.open(roomId, room);
    this.rooms.set(roomId, room);
    return room.ready;
  }

  release(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.refs -= 1;
    if (room.refs > 0) return;
    this.rooms.delete(roomId);
    room.closed = true;
    room.sub?.unsubscribe();
  }

  get size(): number {
    return this.rooms.size;
  }

  /** A room holds exactly one: its core subscription. */
  get subscriptionTotal(): number {
    return this.rooms.size;
  }

  close(): void {
    for (const room of this.rooms.values()) {
      room.closed = true;
      room.sub?.unsubscribe();
    }
    this.rooms.clear();
  }

  /**
   * Resolves once everything of the room's log up to stream sequence `through` was delivered
   * (read from the stream now if it never arrived live). A join calls it with the last sequence
   * its own read of the stream saw.
   */
  async catchUp(roomId: string, through: number): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    await room.ready;
    await this.fillThrough(roomId, room, MSG, through);
  }

  /**
   * After a reconnect: each room's subjects against the stream's last sequences, filling what
   * was published while this edge was away. Rooms are checked a few at a time.
   */
  async resync(): Promise<void> {
    this.counters.resyncs += 1;
    const ids = [...this.rooms.keys()];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const roomId = ids[next++]!;
        const room = this.rooms.get(roomId);
        if (!room) continue;
        try {
          await room.ready;
          const [msg, upd] = await this.lastSequences(roomId);
          await this.fillThrough(roomId, room, MSG, msg);
          await this.fillThrough(roomId, room, UPD, upd);
        } catch (err) {
          this.lose(roomId, room, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RESYNC_CONCURRENCY, ids.length) }, worker));
  }

  private async open(roomId: string, room: Room): Promise<void> {
    // The baseline first, the subscription after: what is stored in between arrives as a gap of
    // the first live message and is filled; what is stored before is the join's to read.
    const [msg, upd] = await this.lastSequences(roomId);
    room.seen = [msg, upd];
    if (room.closed) return;
    room.sub = this.nc.subscribe(roomFanoutSubject(roomId, this.subjectPrefix), {
      callback: (err, m) => (err ? this.lose(roomId, room, err) : this.onLive(roomId, room, m)),
    });
    await this.nc.flush();
    this.drain(roomId, room);
  }

  private onLive(roomId: string, room: Room, m: Msg): void {
    if (room.closed) return;
    const position = fanoutPosition(m.headers);
    if (!position) return;
    const item: Pending = { kind: m.subject.endsWith('.upd') ? UPD : MSG, position, data: m.data, headers: this.handlers.wantsHeaders ? m.headers : undefined };
    if (room.waiting) room.waiting.push(item);
    else this.step(roomId, room, item);
  }

  private step(roomId: string, room: Room, item: Pending): void {
    const seen = room.seen[item.kind];
    if (item.position.seq <= seen) {
      this.counters.repeats += 1;
      return;
    }
    if (item.position.previous > seen) {
      room.waiting = [item];
      void this.fill(roomId, room, item.kind, item.position.seq);
      return;
    }
    room.seen[item.kind] = item.position.seq;
    this.handlers.onMessage(roomId, item.data, item.kind === UPD, item.headers);
  }

  /** Once no fill runs: delivers what the subject holds up to sequence `through` that was not delivered yet. */
  private async fillThrough(roomId: string, room: Room, kind: Kind, through: number): Promise<void> {
    while (room.filling) await room.filling;
    if (room.closed || through <= room.seen[kind]) return;
    room.waiting ??= [];
    await this.fill(roomId, room, kind, through + 1);
  }

  /** Live messages that waited, in order, until one of them opens another fill. */
  private drain(roomId: string, room: Room): void {
    const queued = room.waiting ?? [];
    room.waiting = undefined;
    for (let i = 0; i < queued.length; i++) {
      if (room.closed) return;
      // A step may have opened a fill: the rest waits behind it, in order.
      const waiting = room.waiting as Pending[] | undefined;
      if (waiting) {
        waiting.push(...queued.slice(i));
        return;
      }
      this.step(roomId, room, queued[i]!);
    }
  }

  /**
   * Reads the subject's messages after `seen` and before sequence `before` from the stream and
   * delivers them, then lets the waiting live messages through. `room.waiting` is set by the caller.
   */
  private fill(roomId: string, room: Room, kind: Kind, before: number): Promise<void> {
    const subject = kind === UPD ? roomUpdateSubject(roomId, this.subjectPrefix) : roomSubject(roomId, this.subjectPrefix);
    const run = (async () => {
      try {
        for (let n = 0; ; n++) {
          const m = await this.getNext(subject, room.seen[kind] + 1);
          if (room.closed) return;
          if (!m || m.seq >= before) break;
          if (n === MAX_FILL) throw new Error(`more than ${MAX_FILL} messages missed in room ${roomId}`);
          room.seen[kind] = m.seq;
          this.counters.filled += 1;
          this.handlers.onMessage(roomId, m.data, kind === UPD, this.handlers.wantsHeaders ? m.header : undefined);
        }
        // Whatever the stream holds before `before` is delivered; what it lacks (expired,
        // erased) will never come, and must not open the same gap again.
        room.seen[kind] = Math.max(room.seen[kind], before - 1);
      } catch (err) {
        room.filling = undefined;
        return this.lose(roomId, room, err);
      }
      room.filling = undefined;
      this.drain(roomId, room);
    })();
    room.filling = run;
    return run;
  }

  private lose(roomId: string, room: Room, err: unknown): void {
    if (room.closed) return;
    this.handlers.onLost(roomId, err);
  }

  private async lastSequences(roomId: string): Promise<[number, number]> {
    const [msg, upd] = await Promise.all([this.getLast(roomSubject(roomId, this.subjectPrefix)), this.getLast(roomUpdateSubject(roomId, this.subjectPrefix))]);
    return [msg, upd];
  }

  private async getLast(subject: string): Promise<number> {
    try {
      return (await (this.jsm as DirectGets).direct.getMessage(this.stream, { last_by_subj: subject })).seq;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  private async getNext(subject: string, seq: number) {
    try {
      return await (this.jsm as DirectGets).direct.getMessage(this.stream, { seq, next_by_subj: subject });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** A direct get's "no message" answer (status 404). */
function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '404';
}
