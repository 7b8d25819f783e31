import { DeliverPolicy, type ConsumerMessages, type JetStreamClient, type NatsConnection, type Subscription } from 'nats';
import { roomSubject } from '@parley/envelope';

/**
 * One NATS subscription pair per room per edge, however many local members: the room's stored
 * messages and its lifecycle events. Reference counted by the sockets in the room.
 *
 *   ordered consumer on <stream>, filter <subjectPrefix>.room.<roomId>.msg, deliver new
 *       only what JetStream stored, in stream order. A core subscription on the subject would
 *       also see publishes the stream refused or dropped as duplicates (a retried send would
 *       reach clients twice, a refused one would look sent).
 *   core subscription <eventsPrefix>.room.<roomId>.event.>   room-svc lifecycle events
 *
 * `acquire` resolves once the consumer exists on the server and the event subscription is
 * flushed, so anything stored afterwards reaches this edge: the join algorithm relies on it.
 */
export interface RoomHubHandlers {
  onMessage(roomId: string, data: Uint8Array): void;
  onEvent(roomId: string, data: Uint8Array): void;
  /** The subscription ended on its own (permissions, connection closed): members must resume elsewhere. */
  onLost(roomId: string, err: unknown): void;
}

interface Entry {
  refs: number;
  events: Subscription;
  messages: Promise<ConsumerMessages | undefined>;
  ready: Promise<void>;
}

export class RoomHub {
  private readonly rooms = new Map<string, Entry>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly subjectPrefix: string,
    private readonly eventsPrefix: string,
    private readonly handlers: RoomHubHandlers,
  ) {}

  acquire(roomId: string): Promise<void> {
    const existing = this.rooms.get(roomId);
    if (existing) {
      existing.refs += 1;
      return existing.ready;
    }
    const events = this.subscribe(roomId, `${this.eventsPrefix}.room.${roomId}.event.>`, (d) => this.handlers.onEvent(roomId, d));
    const messages = this.consume(roomId);
    const entry: Entry = { refs: 1, events, messages, ready: Promise.all([messages, this.nc.flush()]).then(() => undefined) };
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

  /** A room holds exactly two: its message consumer and its event subscription. */
  get subscriptionTotal(): number {
    return this.rooms.size * 2;
  }

  close(): void {
    for (const e of this.rooms.values()) stopEntry(e);
    this.rooms.clear();
  }

  private async consume(roomId: string): Promise<ConsumerMessages | undefined> {
    const consumer = await this.js.consumers.get(this.stream, { filterSubjects: roomSubject(roomId, this.subjectPrefix), deliver_policy: DeliverPolicy.New });
    const iter = await consumer.consume({ max_messages: 512 });
    void (async () => {
      try {
        for await (const m of iter) this.handlers.onMessage(roomId, m.data);
      } catch (err) {
        return this.handlers.onLost(roomId, err);
      }
      const entry = this.rooms.get(roomId);
      if (entry && (await entry.messages) === iter) this.handlers.onLost(roomId, new Error('room consumer ended'));
    })();
    return iter;
  }

  private subscribe(roomId: string, subject: string, deliver: (data: Uint8Array) => void): Subscription {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return this.handlers.onLost(roomId, err);
        deliver(msg.data);
      },
    });
    void sub.closed.then(
      () => {
        // Unsubscribed by us (entry gone) is normal; anything else means members went deaf.
        if (this.rooms.get(roomId)?.events === sub) this.handlers.onLost(roomId, new Error(`subscription ${subject} closed`));
      },
      (err: unknown) => this.handlers.onLost(roomId, err),
    );
    return sub;
  }
}

function stopEntry(e: Entry): void {
  e.events.unsubscribe();
  void e.messages.then((iter) => iter?.stop(), () => undefined);
}
