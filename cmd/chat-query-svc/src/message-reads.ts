import cassandra from 'cassandra-driver';
import type { Message, MessageVersion } from '@parley/contracts';
import { firstIdAt, timeOf } from '@parley/envelope';
import { long, MessageTables, messageOfRow, versionsOfRow } from '@parley/message-store';

/** A logged command: what a retried client_msg_id was first logged as. */
export interface LoggedCommand {
  eventId: string;
  kind: string;
}

export interface ChangedPage {
  /** Current states, in the order their latest change was made. */
  messages: Message[];
  truncated: boolean;
}

/**
 * Point reads of `<keyspace>.messages` and its side tables (cql/0002), each message in its
 * current state as `readerId` sees it (@parley/message-store computes it from the row).
 */
export class MessageReads {
  private readonly tables: MessageTables;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
    bucketMs?: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tables = new MessageTables(keyspace, bucketMs);
  }

  async one(roomId: string, id: bigint, readerId?: string): Promise<Message | undefined> {
    const row = await this.row(roomId, id);
    return row ? messageOfRow(row, readerId) : undefined;
  }

  async versions(roomId: string, id: bigint): Promise<MessageVersion[] | undefined> {
    const row = await this.row(roomId, id);
    return row && row.get('sender_id') ? versionsOfRow(row) : undefined;
  }

  /** The messages among `ids` that exist, by id; one query per bucket. */
  async many(roomId: string, ids: readonly bigint[], readerId?: string): Promise<Map<string, Message>> {
    const byBucket = new Map<number, bigint[]>();
    for (const id of new Set(ids)) {
      const b = this.tables.bucketOf(id);
      byBucket.set(b, [...(byBucket.get(b) ?? []), id]);
    }
    const out = new Map<string, Message>();
    await Promise.all(
      [...byBucket].map(async ([bucket, list]) => {
        const rs = await this.client.execute(this.tables.selectMany, [roomId, bucket, list.map((i) => long(i))], { prepare: true, isIdempotent: true });
        for (const row of rs.rows) {
          const m = messageOfRow(row, readerId);
          if (m) out.set(m.id, m);
        }
      }),
    );
    return out;
  }

  /**
   * Messages up to `lastId` that changed since its time minus `skewMs`: what a client that saw
   * `lastId` may hold in an older state. At most `limit`; `truncated` when there were more.
   */
  async changedSince(roomId: string, lastId: bigint, skewMs: number, limit: number, readerId?: string): Promise<ChangedPage> {
    const since = firstIdAt(Math.max(0, timeOf(lastId) - skewMs));
    const order: bigint[] = [];
    const seen = new Set<bigint>();
    let truncated = false;
    const last = this.tables.bucketOf(firstIdAt(this.now() + skewMs));
    outer: for (let b = this.tables.bucketOf(since); b <= last; b++) {
      const rs = await this.client.execute(this.tables.selectChanges, [roomId, b, long(since), 10_000], { prepare: true, isIdempotent: true, fetchSize: 10_000 });
      // Newest first in the partition; this walk wants the oldest change first.
      for (const row of [...rs.rows].reverse()) {
        const id = BigInt((row.get('message_id') as cassandra.types.Long).toString());
        if (id > lastId || seen.has(id)) continue;
        if (order.length === limit) {
          truncated = true;
          break outer;
        }
        seen.add(id);
        order.push(id);
      }
    }
    const found = await this.many(roomId, order, readerId);
    return { messages: order.map((id) => found.get(id.toString())).filter((m): m is Message => m !== undefined), truncated };
  }

  async loggedCommand(roomId: string, senderId: string, clientMsgId: string): Promise<LoggedCommand | undefined> {
    const rs = await this.client.execute(this.tables.selectClientId, [roomId, senderId, clientMsgId], { prepare: true, isIdempotent: true });
    const row = rs.first();
    return row ? { eventId: (row.get('event_id') as cassandra.types.Long).toString(), kind: row.get('kind') as string } : undefined;
  }

  /** A thread's replies, oldest first, after `afterId`; undefined when the parent does not exist. */
  async thread(roomId: string, parentId: bigint, opts: { afterId?: bigint; limit: number }, readerId?: string): Promise<{ messages: Message[]; hasMore: boolean } | undefined> {
    const row = await this.row(roomId, parentId);
    if (!row || !row.get('sender_id')) return undefined;
    const replies = ((row.get('replies') as cassandra.types.Long[] | null) ?? [])
      .map((l) => BigInt(l.toString()))
      .filter((id) => opts.afterId === undefined || id > opts.afterId)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = replies.slice(0, opts.limit);
    const found = await this.many(roomId, page, readerId);
    return { messages: page.map((id) => found.get(id.toString())).filter((m): m is Message => m !== undefined), hasMore: replies.length > opts.limit };
  }

  /** Moves the reader's mark to `messageId` unless it is already further; returns the mark now. */
  async markRead(roomId: string, userId: string, messageId: bigint): Promise<bigint> {
    await Promise.all(this.tables.readMarkOf(roomId, userId, messageId).map((s) => this.client.execute(s.query, s.params, { prepare: true, isIdempotent: true })));
    return (await this.mark(userId, roomId)) ?? messageId;
  }

  /** The user's read mark of one room, if any. */
  async mark(userId: string, roomId: string): Promise<bigint | undefined> {
    const rs = await this.client.execute(this.tables.selectMark, [userId, roomId], { prepare: true, isIdempotent: true });
    const now = rs.first()?.get('message_id') as cassandra.types.Long | undefined;
    return now ? BigInt(now.toString()) : undefined;
  }

  /** Every room's read mark of a user (one partition). */
  async marks(userId: string): Promise<Map<string, bigint>> {
    const rs = await this.client.execute(this.tables.selectMarks, [userId], { prepare: true, isIdempotent: true, fetchSize: 5000 });
    return new Map(rs.rows.map((r) => [r.get('room_id') as string, BigInt((r.get('message_id') as cassandra.types.Long).toString())]));
  }

  /** Every member's read mark in a room (one partition). */
  async roomReads(roomId: string): Promise<Map<string, bigint>> {
    const rs = await this.client.execute(this.tables.selectRoomReads, [roomId], { prepare: true, isIdempotent: true, fetchSize: 5000 });
    return new Map(rs.rows.map((r) => [r.get('user_id') as string, BigInt((r.get('message_id') as cassandra.types.Long).toString())]));
  }

  private async row(roomId: string, id: bigint): Promise<cassandra.types.Row | undefined> {
    const rs = await this.client.execute(this.tables.selectOne, [roomId, this.tables.bucketOf(id), long(id)], { prepare: true, isIdempotent: true });
    return rs.first() ?? undefined;
  }
}
