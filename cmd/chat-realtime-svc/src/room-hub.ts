import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type MsgHdrs } from 'nats';
import { roomFollowSubject } from '@parley/nats';

/**
 * One NATS consumer per room per edge, however many local members, reference counted by the
 * sockets in the room: an ordered consumer on <stream>, filter <subjectPrefix>.room.<roomId>.*
 * (the room's events on .msg and the store's announcements of changes on .upd, in one order),
 * deliver new. It sees only what JetStream stored, in stream order; a core subscription on the
 * subject would also see publishes the stream refused or dropped as duplicates (a retried send
 * would reach clients twice, a refused one would look sent). Room lifecycle events are followed
 * once per edge instead (RoomEvents).
 *
 * `acquire` resolves once the consumer exists on the server, so anything stored afterwards
 * reaches this edge: the join algorithm relies on it.
 */
export interface RoomHubHandlers {
  /**
   * `update`: an announcement of a change (.upd) rather than an event of the room's log (.msg);
   * `headers`: the stored message's NATS headers (its trace context).
   */
  onMessage(roomId: string, data: Uint8Array, update: boolean, headers?: MsgHdrs): void;
  /** Whether `onMessage` reads headers (tracing): otherwise they are not decoded at all. */
  readonly wantsHeaders: boolean;
  /** The subscription ended on its own (permissions, connection closed): members must resume elsewhere. */
  onLost(roomId: string, err: unknown): void;
}

interface Entry {
  refs: number;
  messages: Promise<ConsumerMessages | undefined>;
  ready: Promise<void>;
}

export class RoomHub {
  private readonly rooms = new Map<string, Entry>();

  constructor(
    private readonly js: JetStreamClient,
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
    const messages = this.consume(roomId);
    const entry: Entry = { refs: 1, messages, ready: messages.then(() => undefined) };
    this.rooms.set(roomId, entry);
    return entry.ready;
  }

  release(roomId: string): void {
    const entry = this.rooms.get(roomId);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.rooms.delete(roomId);
    stopEntry(entry);
  }

  get size(): number {
    return this.rooms.size;
  }

  /** A room holds exactly one: its message consumer. */
  get subscriptionTotal(): number {
    return this.rooms.size;
  }

  close(): void {
    for (const e of this.rooms.values()) stopEntry(e);
    this.rooms.clear();
  }

  private async consume(roomId: string): Promise<ConsumerMessages | undefined> {
    const consumer = await this.js.consumers.get(this.stream, { filterSubjects: roomFollowSubject(roomId, this.subjectPrefix), deliver_policy: DeliverPolicy.New });
    const iter = await consumer.consume({ max_messages: 512 });
    void (async () => {
      try {
        for await (const m of iter) this.handlers.onMessage(roomId, m.data, m.subject.endsWith('.upd'), this.handlers.wantsHeaders ? m.headers : undefined);
      } catch (err) {
        return this.handlers.onLost(roomId, err);
      }
      const entry = this.rooms.get(roomId);
      if (entry && (await entry.messages) === iter) this.handlers.onLost(roomId, new Error('room consumer ended'));
    })();
    return iter;
  }
}

function stopEntry(e: Entry): void {
  void e.messages.then((iter) => iter?.stop(), () => undefined);
}
