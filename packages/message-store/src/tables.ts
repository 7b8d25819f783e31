import cassandra from 'cassandra-driver';
import { bucketOf, DEFAULT_BUCKET_MS, type Envelope } from '@parley/envelope';
import type { ChangeEvent, MessageEvent } from '@parley/contracts';

const { Long } = cassandra.types;

/**
 * How events become rows of `<keyspace>.messages` and its side tables (cql/0002). Every write
 * is blind (no read first) and carries the event's snowflake id as its cell timestamp, so the
 * store orders events by id whatever order they arrive in, and a replay rewrites the same cells
 * with the same timestamps: idempotent and order-safe by construction. Three timestamps are
 * not event ids, on purpose:
 *
 *   PURGE  2^62 + message id   a deleted message's body and edits are nulled at a timestamp no
 *                              edit can reach, so a late or replayed edit never brings text back
 *   ERASE  2^63 - 2            an erasure is a row deletion above every other write: a replay of
 *                              the message's old events lands below it and stays invisible
 *   FIRST  2^62 - event id     a retry key keeps the first event logged under it: the smaller the
 *                              id, the larger the timestamp
 *
 * Snowflake ids stay below 2^62 until 2058 (41 bits of ms since 2024 << 22).
 */
export const PURGE_BASE = 1n << 62n;
export const ERASE_TIMESTAMP = (1n << 63n) - 2n;

export interface CqlStatement {
  query: string;
  params: unknown[];
}

/** What one event writes. */
export interface EventWrites {
  roomId: string;
  kind: Exclude<Envelope['kind'], 'erase'>;
  /** The `messages` row it lands on: the message's own for a send, the target's for a change. */
  messageId: bigint;
  bucket: number;
  /** The statement on that row; statements of one partition can share an unlogged batch. */
  row: CqlStatement;
  /** Everything else (retry key, change log, a parent's reply set): idempotent, any order. */
  side: CqlStatement[];
  /** Messages whose state this event changes (and so are announced to the room). */
  changed: bigint[];
}

/** The columns a reader needs; `row` in state.ts reads exactly these. */
export const MESSAGE_COLUMNS =
  'room_id, id, sender_id, sender_name, body, client_msg_id, kind, created_at, reply_to, mentions, edits, edit_authors, edit_mentions, deletes, reactions, replies, changed_at';

/**
 * Cassandra's default `batch_size_fail_threshold` is 50 KiB (ScyllaDB's is larger); a batch of
 * one partition's rows is cut well below it, by this estimate of each row's size. A row too big
 * for a batch alone is written on its own.
 */
export const BATCH_BUDGET_BYTES = 32 * 1024;
const ROW_OVERHEAD_BYTES = 160;

export function rowBytesOf(e: Exclude<Envelope, { kind: 'erase' }>): number {
  return ('body' in e ? Buffer.byteLength(e.body) : 0) + Buffer.byteLength(e.sender_name) + ROW_OVERHEAD_BYTES;
}

export function long(id: bigint | string): cassandra.types.Long {
  return Long.fromString(id.toString());
}

/** The key of one member's reaction with one emoji in the `reactions` map. */
export function reactionKey(emoji: string, userId: string): string {
  return `${emoji} ${userId}`;
}

/** A delete by the room's owner (rather than the author) is recorded with this prefix. */
export const OWNER_DELETE_PREFIX = 'owner:';

export class MessageTables {
  readonly insertMessage: string;
  readonly addReply: string;
  readonly addEdit: string;
  readonly addDelete: string;
  readonly setReaction: string;
  readonly purge: string;
  readonly eraseRow: string;
  readonly eraseReply: string;
  readonly insertChange: string;
  readonly insertClientId: string;
  readonly insertErasure: string;
  readonly selectOne: string;
  readonly selectMany: string;
  /** A partition's messages below an id, newest first (storage order: the table clusters by id DESC). */
  readonly selectOlder: string;
  /** A partition's messages above an id, oldest first. */
  readonly selectNewer: string;
  readonly selectSenders: string;
  readonly selectChanges: string;
  readonly selectClientId: string;
  readonly selectErasures: string;
  readonly markRead: string;
  readonly markRoomRead: string;
  readonly selectMarks: string;
  readonly selectMark: string;
  readonly selectRoomReads: string;

  constructor(
    readonly keyspace: string,
    readonly bucketMs: number = DEFAULT_BUCKET_MS,
  ) {
    const m = `${keyspace}.messages`;
    const key = 'WHERE room_id = ? AND bucket = ? AND id = ?';
    this.insertMessage = `INSERT INTO ${m} (room_id, bucket, id, sender_id, sender_name, body, client_msg_id, kind, created_at, v, reply_to, mentions, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`;
    this.addReply = `UPDATE ${m} USING TIMESTAMP ? SET replies = replies + ?, changed_at = ? ${key}`;
    this.addEdit = `UPDATE ${m} USING TIMESTAMP ? SET edits[?] = ?, edit_authors[?] = ?, edit_mentions[?] = ?, changed_at = ? ${key}`;
    this.addDelete = `UPDATE ${m} USING TIMESTAMP ? SET deletes[?] = ?, changed_at = ? ${key}`;
    this.setReaction = `UPDATE ${m} USING TIMESTAMP ? SET reactions[?] = ?, changed_at = ? ${key}`;
    this.purge = `UPDATE ${m} USING TIMESTAMP ? SET body = null, mentions = null, edits = null, edit_mentions = null ${key}`;
    this.eraseRow = `DELETE FROM ${m} USING TIMESTAMP ? ${key}`;
    this.eraseReply = `UPDATE ${m} USING TIMESTAMP ? SET replies = replies - ? ${key}`;
    this.insertChange = `INSERT INTO ${keyspace}.message_changes (room_id, bucket, id, message_id) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`;
    this.insertClientId = `INSERT INTO ${keyspace}.client_ids (room_id, sender_id, client_msg_id, event_id, kind) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`;
    this.insertErasure = `INSERT INTO ${keyspace}.erasures (room_id, user_id, up_to) VALUES (?, ?, ?) USING TIMESTAMP ?`;
    this.selectOne = `SELECT ${MESSAGE_COLUMNS} FROM ${m} ${key}`;
    this.selectMany = `SELECT ${MESSAGE_COLUMNS} FROM ${m} WHERE room_id = ? AND bucket = ? AND id IN ?`;
    this.selectOlder = `SELECT ${MESSAGE_COLUMNS} FROM ${m} WHERE room_id = ? AND bucket = ? AND id < ? ORDER BY id DESC LIMIT ?`;
    this.selectNewer = `SELECT ${MESSAGE_COLUMNS} FROM ${m} WHERE room_id = ? AND bucket = ? AND id > ? ORDER BY id ASC LIMIT ?`;
    this.selectSenders = `SELECT id, sender_id, reply_to FROM ${m} WHERE room_id = ? AND bucket = ? AND id <= ?`;
    this.selectChanges = `SELECT id, message_id FROM ${keyspace}.message_changes WHERE room_id = ? AND bucket = ? AND id > ? LIMIT ?`;
    this.selectClientId = `SELECT event_id, kind FROM ${keyspace}.client_ids WHERE room_id = ? AND sender_id = ? AND client_msg_id = ?`;
    this.selectErasures = `SELECT room_id, user_id, up_to FROM ${keyspace}.erasures`;
    this.markRead = `INSERT INTO ${keyspace}.read_marks (user_id, room_id, message_id) VALUES (?, ?, ?) USING TIMESTAMP ?`;
    this.markRoomRead = `INSERT INTO ${keyspace}.room_reads (room_id, user_id, message_id) VALUES (?, ?, ?) USING TIMESTAMP ?`;
    this.selectMarks = `SELECT room_id, message_id FROM ${keyspace}.read_marks WHERE user_id = ?`;
    this.selectMark = `SELECT message_id FROM ${keyspace}.read_marks WHERE user_id = ? AND room_id = ?`;
    this.selectRoomReads = `SELECT user_id, message_id FROM ${keyspace}.room_reads WHERE room_id = ?`;
  }

  bucketOf(id: bigint): number {
    return bucketOf(id, this.bucketMs);
  }

  /** The writes of a message, edit, delete or reaction event (an erasure needs reads: see the sink). */
  writesOf(e: Exclude<Envelope, { kind: 'erase' }>): EventWrites {
    const id = BigInt(e.id);
    const ts = long(id);
    const side: CqlStatement[] = [this.clientId(e, id)];
    if (e.kind === 'message') return this.messageWrites(e, id, ts, side);
    return this.changeWrites(e, id, ts, side);
  }

  private messageWrites(e: MessageEvent, id: bigint, ts: cassandra.types.Long, side: CqlStatement[]): EventWrites {
    const bucket = this.bucketOf(id);
    const at = new Date(e.created_at);
    const changed: bigint[] = [];
    if (e.reply_to !== undefined) {
      const parent = BigInt(e.reply_to);
      side.push({ query: this.addReply, params: [ts, [long(id)], at, e.room_id, this.bucketOf(parent), long(parent)] });
      side.push(this.change(e.room_id, id, parent));
      changed.push(parent);
    }
    const row = {
      query: this.insertMessage,
      params: [
        e.room_id,
        bucket,
        long(id),
        e.sender_id,
        e.sender_name,
        e.body,
        e.client_msg_id,
        e.kind,
        at,
        e.v,
        e.reply_to === undefined ? null : long(e.reply_to),
        e.mentions ?? null,
        at,
        ts,
      ],
    };
    return { roomId: e.room_id, kind: e.kind, messageId: id, bucket, row, side, changed };
  }

  private changeWrites(e: ChangeEvent, id: bigint, ts: cassandra.types.Long, side: CqlStatement[]): EventWrites {
    const target = BigInt(e.target_id);
    const bucket = this.bucketOf(target);
    const at = new Date(e.created_at);
    const where = [e.room_id, bucket, long(target)];
    let row: CqlStatement;
    if (e.kind === 'edit') {
      row = { query: this.addEdit, params: [ts, long(id), e.body, long(id), e.sender_id, long(id), e.mentions ?? [], at, ...where] };
    } else if (e.kind === 'delete') {
      const actor = e.by_owner ? `${OWNER_DELETE_PREFIX}${e.sender_id}` : e.sender_id;
      row = { query: this.addDelete, params: [ts, long(id), actor, at, ...where] };
    } else {
      row = { query: this.setReaction, params: [ts, reactionKey(e.emoji, e.sender_id), e.on, at, ...where] };
    }
    side.push(this.change(e.room_id, id, target));
    return { roomId: e.room_id, kind: e.kind, messageId: target, bucket, row, side, changed: [target] };
  }

  /** Nulls a deleted message's text above every edit (see PURGE_BASE). */
  purgeOf(roomId: string, messageId: bigint): CqlStatement {
    return { query: this.purge, params: [long(PURGE_BASE + messageId), roomId, this.bucketOf(messageId), long(messageId)] };
  }

  eraseOf(roomId: string, messageId: bigint, replyTo: bigint | undefined): CqlStatement[] {
    const ts = long(ERASE_TIMESTAMP);
    const out: CqlStatement[] = [{ query: this.eraseRow, params: [ts, roomId, this.bucketOf(messageId), long(messageId)] }];
    if (replyTo !== undefined) out.push({ query: this.eraseReply, params: [ts, [long(messageId)], roomId, this.bucketOf(replyTo), long(replyTo)] });
    return out;
  }

  /** A read mark at the message's id as its timestamp: the largest mark wins (cql/0003). */
  readMarkOf(roomId: string, userId: string, messageId: bigint): CqlStatement[] {
    const id = long(messageId);
    return [
      { query: this.markRead, params: [userId, roomId, id, id] },
      { query: this.markRoomRead, params: [roomId, userId, id, id] },
    ];
  }

  erasureOf(roomId: string, userId: string, upTo: bigint): CqlStatement {
    return { query: this.insertErasure, params: [roomId, userId, long(upTo), long(upTo)] };
  }

  private change(roomId: string, eventId: bigint, messageId: bigint): CqlStatement {
    return { query: this.insertChange, params: [roomId, this.bucketOf(eventId), long(eventId), long(messageId), long(eventId)] };
  }

  private clientId(e: Envelope, id: bigint): CqlStatement {
    return { query: this.insertClientId, params: [e.room_id, e.sender_id, e.client_msg_id, long(id), e.kind, long(PURGE_BASE - id)] };
  }
}

/**
 * The driver refuses a request beyond `pooling.maxRequestsPerConnection` (2048 with one
 * connection per host) with BusyConnectionError instead of queueing it; a writer that fans out
 * one statement per event keeps at most this many of its own in flight.
 */
export const MAX_STATEMENTS_IN_FLIGHT = 1024;

/** Runs at most `max` of the functions given to `run` at once, the others in the order given. */
export class InFlight {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number = MAX_STATEMENTS_IN_FLIGHT) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}
