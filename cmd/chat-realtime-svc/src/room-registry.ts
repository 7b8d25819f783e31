import { decodeEnvelope, parseId } from '@parley/envelope';
import type { Logger } from '@parley/log';
import type { Conn } from './conn.js';
import { BoundedSet, type RoomEvent } from './room-events.js';
import type { RoomHubHandlers } from './room-hub.js';
import { CloseCodes, ephemeralEventSchema, messageChangedSchema, parseEvent, type MessageChanged, type PresenceMember } from '@parley/contracts';
import { memberTypingFrame, messageFrame, messageUpdatedFrame, presenceDiffFrame, receiptsFrame, roomDeletedFrame } from './protocol.js';
import type { Presence } from './presence.js';
import type { MsgHdrs } from 'nats';
import { natsTraceContext, SpanKind, startSpan, type Tracer } from '@parley/tracing';

const text = new TextDecoder();
/** Deletions and removals remembered for sockets admitted just before them. */
const REMEMBERED_EVENTS = 10_000;
/** How long receipts of a room are gathered into one frame. */
export const RECEIPT_BATCH_MS = 250;
/** A socket with more than this waiting to be sent gets no typing and no receipts. */
export const EPHEMERAL_SHED_BYTES = 64 * 1024;

/**
 * Which sockets of this edge are in which room, and what reaches them from NATS. Live frames
 * are serialized once per room and handed to uWS topic fanout (`publish`); only sockets still
 * loading their history get a copy in their own buffer. It also tracks unacknowledged sends
 * so shutdown can wait for their PubAcks.
 */
export class RoomRegistry implements RoomHubHandlers {
  private readonly rooms = new Map<string, Set<Conn>>();
  private readonly joining = new Map<string, Set<Conn>>();
  private readonly sessions = new Map<string, Set<Conn>>();
  /** token hash → when that session expires, for the sessions in `sessions` that say so. */
  private readonly expiries = new Map<string, number>();
  /** No session in `expiries` expires before this: the sweep walks them only when it has passed. */
  private nextExpiry = Number.POSITIVE_INFINITY;
  private readonly inFlight = new Set<Promise<unknown>>();
  private publish: (topic: string, frame: string) => void = () => undefined;
  private readonly deletedRooms = new BoundedSet(REMEMBERED_EVENTS);
  private readonly removedMembers = new BoundedSet(REMEMBERED_EVENTS);

  /** Who is online across edges; set once the edge has Redis and NATS (bindPresence). */
  private presence: Presence | undefined;

  bindPresence(presence: Presence): void {
    this.presence = presence;
  }

  /** The room's presence diff to its live sockets (a socket that resumes gets a fresh snapshot). */
  presenceDiff(roomId: string, joined: PresenceMember[], left: PresenceMember[]): void {
    const conns = this.rooms.get(roomId);
    if (!conns) return;
    const frame = presenceDiffFrame(joined, left);
    for (const c of conns) if (!c.isJoining && c.bufferedAmount() < EPHEMERAL_SHED_BYTES) c.send(frame, 'presence_diff');
  }

  /** Receipts gathered per room until the next flush: user → newest mark. */
  private readonly receipts = new Map<string, Map<string, string>>();

  constructor(
    private readonly log: Logger,
    private readonly maxBodyBytes: number,
    /** A traced message's fanout on this edge is a span of its trace (undefined: tracing off). */
    private readonly tracer?: Tracer,
  ) {}

  /** Headers are decoded only to continue traces. */
  get wantsHeaders(): boolean {
    return this.tracer !== undefined;
  }

  /** The edge's topic fanout (uWS app.publish), bound once the app exists. */
  bindFanout(publish: (topic: string, frame: string) => void): void {
    this.publish = publish;
  }

  topicOf(roomId: string): string {
    return `room/${roomId}`;
  }

  add(conn: Conn): void {
    setAdd(this.rooms, conn.roomId, conn);
    setAdd(this.joining, conn.roomId, conn);
    setAdd(this.sessions, conn.tokenHash, conn);
    if (conn.sessionExpiresAtMs > 0) {
      this.expiries.set(conn.tokenHash, conn.sessionExpiresAtMs);
      this.nextExpiry = Math.min(this.nextExpiry, conn.sessionExpiresAtMs);
    }
  }

  markLive(conn: Conn): void {
    setDelete(this.joining, conn.roomId, conn);
  }

  remove(conn: Conn): void {
    setDelete(this.rooms, conn.roomId, conn);
    setDelete(this.joining, conn.roomId, conn);
    setDelete(this.sessions, conn.tokenHash, conn);
    if (!this.sessions.has(conn.tokenHash)) this.expiries.delete(conn.tokenHash);
  }

  /**
   * Ends the sockets of sessions that expired by `now` (4401): a socket must not outlive the
   * session it was admitted with. Sessions are walked only once the earliest expiry passed.
   */
  closeExpired(now: number): number {
    if (now < this.nextExpiry) return 0;
    let closed = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const [tokenHash, expiresAt] of [...this.expiries]) {
      if (expiresAt > now) {
        next = Math.min(next, expiresAt);
        continue;
      }
      this.expiries.delete(tokenHash);
      closed += this.closeSession(tokenHash, CloseCodes.SESSION_ENDED, 'session expired: log in again');
    }
    this.nextExpiry = next;
    return closed;
  }

  /** Closes every socket opened with the session whose token hashes to `tokenHash`; returns how many. */
  closeSession(tokenHash: string, code: number, reason: string): number {
    const conns = [...(this.sessions.get(tokenHash) ?? [])];
    for (const c of conns) c.end(code, reason);
    return conns.length;
  }

  get connectionCount(): number {
    let n = 0;
    for (const s of this.rooms.values()) n += s.size;
    return n;
  }

  onMessage(roomId: string, data: Uint8Array, update = false, headers?: MsgHdrs): void {
    if (update) return this.onUpdate(roomId, data);
    let id: bigint | undefined;
    try {
      const env = decodeEnvelope(data, { maxBodyBytes: this.maxBodyBytes });
      // A change reaches clients once the store applied it (the .upd announcement), not as logged.
      if (env.kind !== 'message') return;
      id = parseId(env.id);
    } catch (err) {
      // Nothing but envelopes belongs on a message subject; a stray publish must not reach clients.
      this.log.warn({ err, roomId }, 'dropped an invalid envelope from the room subject');
      return;
    }
    if (id === undefined) return;
    const parent = this.tracer ? natsTraceContext(headers) : undefined;
    const span = this.tracer && parent ? startSpan(this.tracer, 'fanout', SpanKind.CONSUMER, { 'parley.room_id': roomId, 'parley.message_id': String(id), 'parley.sockets': this.rooms.get(roomId)?.size ?? 0 }, parent) : undefined;
    const frame = messageFrame(text.decode(data));
    this.publish(this.topicOf(roomId), frame);
    const joiners = this.joining.get(roomId);
    if (joiners) for (const c of joiners) c.buffer(id, frame);
    span?.end();
  }

  /**
   * Typing and receipts from the room's ephemeral subject. Typing goes to the other members'
   * sockets at once, except to a socket whose send buffer is past `EPHEMERAL_SHED_BYTES`: it is
   * the first thing a slow socket goes without. Receipts are gathered per room for
   * RECEIPT_BATCH_MS and sent as one `receipts` frame (each member's newest mark), so a busy
   * room's reading does not multiply its traffic.
   */
  onEphemeral(roomId: string, data: Uint8Array): void {
    const event = parseEvent(ephemeralEventSchema, data);
    if (!event) return;
    if (event.kind === 'typing') {
      const conns = this.rooms.get(roomId);
      if (!conns) return;
      const frame = memberTypingFrame(event.user_id, event.name);
      for (const c of conns) if (c.userId !== event.user_id && !c.isJoining && c.bufferedAmount() < EPHEMERAL_SHED_BYTES) c.send(frame, 'typing');
      return;
    }
    if (event.kind === 'presence') return this.presence?.onEvent(roomId, event);
    let batch = this.receipts.get(roomId);
    if (!batch) {
      batch = new Map();
      this.receipts.set(roomId, batch);
      setTimeout(() => this.flushReceipts(roomId), RECEIPT_BATCH_MS).unref();
    }
    const had = batch.get(event.user_id);
    if (had === undefined || BigInt(event.message_id) > BigInt(had)) batch.set(event.user_id, event.message_id);
  }

  private flushReceipts(roomId: string): void {
    const batch = this.receipts.get(roomId);
    this.receipts.delete(roomId);
    const conns = this.rooms.get(roomId);
    if (!batch || !conns) return;
    const frame = receiptsFrame([...batch].map(([user_id, message_id]) => ({ user_id, message_id })));
    for (const c of conns) if (!c.isJoining && c.bufferedAmount() < EPHEMERAL_SHED_BYTES) c.send(frame, 'receipts');
  }

  /**
   * A change the store announced: `message_updated` with the message's whole state. Reactions
   * say whether the reader reacted, so a message with reactions gets one frame per user on
   * this edge (built once per user, not per socket); without, one frame for everyone.
   */
  private onUpdate(roomId: string, data: Uint8Array): void {
    const change = parseEvent(messageChangedSchema, data);
    if (!change || change.message.room_id !== roomId) {
      this.log.warn({ roomId }, 'dropped an invalid announcement from the room subject');
      return;
    }
    const id = BigInt(change.message.id);
    const changedAt = change.message.changed_at ?? change.message.created_at;
    const conns = this.rooms.get(roomId);
    if (!conns) return;
    const perUser = (change.message.reactions?.length ?? 0) > 0;
    const shared = perUser ? undefined : messageUpdatedFrame(JSON.stringify(change.message));
    const frames = new Map<string, string>();
    for (const c of conns) {
      let frame = shared;
      if (frame === undefined) {
        frame = frames.get(c.userId);
        if (frame === undefined) {
          frame = messageUpdatedFrame(JSON.stringify(asSeenBy(change, c.userId)));
          frames.set(c.userId, frame);
        }
      }
      if (c.isJoining) c.bufferUpdate(id, changedAt, frame);
      else c.send(frame, 'message_updated');
    }
  }

  /**
   * Applies a room-svc lifecycle event. Deletions and removals are also remembered: a socket
   * admitted just before the event (membership checked, not yet registered) is closed on
   * registration instead of slipping past it.
   */
  onRoomEvent(event: RoomEvent): void {
    const roomId = event.room_id;
    const members = [...(this.rooms.get(roomId) ?? [])];
    if (event.type === 'room.deleted') {
      this.deletedRooms.add(roomId);
      if (members.length > 0) this.log.info({ roomId, sockets: members.length }, 'room deleted: closing its sockets');
      for (const c of members) endDeleted(c);
    } else if (event.type === 'room.member_removed') {
      this.removedMembers.add(memberKey(roomId, event.data.user_id));
      for (const c of members) if (c.userId === event.data.user_id) endRemoved(c);
    } else if (event.type === 'room.member_added') {
      this.removedMembers.delete(memberKey(roomId, event.data.user_id));
    }
  }

  /** Closes `conn` if an event already applied here took its room or membership away; true if so. */
  closeIfGone(conn: Conn): boolean {
    if (this.deletedRooms.has(conn.roomId)) endDeleted(conn);
    else if (this.removedMembers.has(memberKey(conn.roomId, conn.userId))) endRemoved(conn);
    else return false;
    return true;
  }

  onLost(roomId: string, err: unknown): void {
    this.log.warn({ err, roomId }, 'room subscription lost: members must resume');
    for (const c of [...(this.rooms.get(roomId) ?? [])]) c.end(CloseCodes.SERVICE_RESTART, 'live subscription lost: reconnect and resume');
  }

  closeAll(code: number, reason: string): void {
    for (const set of [...this.rooms.values()]) for (const c of [...set]) c.end(code, reason);
  }

  /** Sockets whose send buffer passed `limit` are told to reconnect and resume (4008). */
  closeSlow(limit: number): void {
    for (const set of this.rooms.values()) {
      for (const c of set) {
        if (c.bufferedAmount() > limit) c.end(CloseCodes.SLOW_CONSUMER, 'too slow: reconnect and resume');
      }
    }
  }

  track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
  }

  /** Resolves when every tracked send settled, or when `signal` aborts. */
  async drained(signal: AbortSignal): Promise<void> {
    while (this.inFlight.size > 0 && !signal.aborted) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    }
  }
}

function memberKey(roomId: string, userId: string): string {
  return `${roomId} ${userId}`;
}

function endDeleted(c: Conn): void {
  c.send(roomDeletedFrame(c.roomId), 'room_deleted');
  c.end(CloseCodes.ROOM_DELETED, 'room deleted');
}

function endRemoved(c: Conn): void {
  c.end(CloseCodes.MEMBERSHIP_REVOKED, 'removed from the room');
}

function setAdd<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function setDelete<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** The announced state with `me` set for one reader (see MAX_LISTED_REACTORS for its bound). */
function asSeenBy(change: MessageChanged, userId: string): MessageChanged['message'] {
  const reactions = change.message.reactions?.map((r) => ({ ...r, me: change.reactors[r.emoji]?.includes(userId) ?? false }));
  return reactions ? { ...change.message, reactions } : change.message;
}
