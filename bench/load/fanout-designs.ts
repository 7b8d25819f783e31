/**
 * The ways one edge connection can follow N rooms of one JetStream stream, for
 * bench/nats-fanout-probe.ts. Every design stores the messages in a stream (the durable
 * buffer is not optional); they differ in how the stored messages reach the edge:
 *
 *   stream-only     no subscriber at all: what storing alone costs (the baseline)
 *   consumers       one ordered consumer per room, filter <p>.room.<id>.*  (the room hub until now)
 *   republish-subs  RePublish <p>.room.> to <p>.fan.>, one core subscription per room
 *   republish-demux RePublish as above, one wildcard subscription <p>.fan.*.msg, rooms found locally
 *   one-consumer    one ordered consumer on <p>.room.>, rooms found locally
 *
 * The demultiplexing designs receive every room's traffic, wanted or not: on a real edge that
 * is all rooms on the cluster, not only the rooms it holds sockets in. The probe holds every
 * room, so it cannot show that cost; docs/scaling.md weighs it.
 */
import { DeliverPolicy, StorageType, nanos, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type NatsConnection, type Subscription } from 'nats';

export type DesignKey = 'stream-only' | 'consumers' | 'republish-subs' | 'republish-demux' | 'one-consumer';

/**
 * Run order, lightest on the server first: Go keeps the heap a design freed and reuses it, so
 * the NATS RSS growth of a design run after a heavier one reads low (or zero).
 */
export const DESIGNS: DesignKey[] = ['stream-only', 'republish-demux', 'one-consumer', 'republish-subs', 'consumers'];

export interface DesignNames {
  stream: string;
  prefix: string;
}

/** What a design created, and whether something (the deadline, an error) stopped it first. */
export interface Created {
  created: number;
  stoppedBy?: string;
  close(): Promise<void>;
}

/** Delivery of a message for room index `room`. */
export type OnMessage = (room: number, data: Uint8Array) => void;

const roomId = (i: number) => `r${i}`;
export const roomSubject = (n: DesignNames, i: number) => `${n.prefix}.room.${roomId(i)}.msg`;

/** The message stream as packages/nats configures it (file storage, one replica), plus RePublish when asked. */
export async function createStream(jsm: JetStreamManager, n: DesignNames, republish: boolean): Promise<void> {
  await jsm.streams.add({
    name: n.stream,
    subjects: [`${n.prefix}.room.>`],
    storage: StorageType.File,
    num_replicas: 1,
    max_age: nanos(10 * 60_000),
    max_msg_size: 64 * 1024,
    ...(republish ? { republish: { src: `${n.prefix}.room.>`, dest: `${n.prefix}.fan.>` } } : {}),
  });
}

export const usesRepublish = (d: DesignKey) => d === 'republish-subs' || d === 'republish-demux';

/** Runs `make(i)` for i in [0, n) with `concurrency` in flight until the deadline or the first error. */
async function createEach(n: number, concurrency: number, deadline: number, make: (i: number) => Promise<void>): Promise<{ created: number; stoppedBy?: string }> {
  let next = 0;
  let created = 0;
  let stoppedBy: string | undefined;
  const worker = async () => {
    while (next < n && stoppedBy === undefined) {
      if (Date.now() > deadline) {
        stoppedBy ??= `create deadline: ${created} of ${n} made`;
        return;
      }
      const i = next++;
      try {
        await make(i);
        created += 1;
      } catch (err) {
        stoppedBy ??= `create ${created + 1} of ${n} failed: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { created, ...(stoppedBy ? { stoppedBy } : {}) };
}

/** Sets up design `d` for `n` rooms on connection `nc`; every delivery goes to `onMessage`. */
export async function setUpDesign(d: DesignKey, nc: NatsConnection, js: JetStreamClient, names: DesignNames, n: number, deadline: number, onMessage: OnMessage): Promise<Created> {
  switch (d) {
    case 'stream-only':
      return { created: 0, close: async () => undefined };
    case 'consumers':
      return perRoomConsumers(js, names, n, deadline, onMessage);
    case 'republish-subs': {
      const subs: Subscription[] = [];
      const r = await createEach(n, 1, deadline, async (i) => {
        subs.push(nc.subscribe(`${names.prefix}.fan.${roomId(i)}.msg`, { callback: (err, m) => !err && onMessage(i, m.data) }));
        // A flush every 1,000 so the SUBs reach the server while the deadline still means something.
        if (i % 1000 === 999) await nc.flush();
      });
      await nc.flush();
      return { ...r, close: async () => subs.forEach((s) => s.unsubscribe()) };
    }
    case 'republish-demux': {
      // The room index from the subject, as an edge would look the room up in its map.
      const from = names.prefix.split('.').length + 1;
      const sub = nc.subscribe(`${names.prefix}.fan.*.msg`, { callback: (err, m) => !err && onMessage(Number(m.subject.split('.')[from]!.slice(1)), m.data) });
      await nc.flush();
      return { created: n, close: async () => sub.unsubscribe() };
    }
    case 'one-consumer': {
      const from = names.prefix.split('.').length + 1;
      const consumer = await js.consumers.get(names.stream, { filterSubjects: `${names.prefix}.room.>`, deliver_policy: DeliverPolicy.New });
      const iter = await consumer.consume({ max_messages: 512 });
      void (async () => {
        for await (const m of iter) onMessage(Number(m.subject.split('.')[from]!.slice(1)), m.data);
      })().catch(() => undefined);
      return { created: n, close: async () => void (await iter.close()) };
    }
  }
}

/** What the room hub does per room: an ordered consumer, deliver new, read as an iterator. */
async function perRoomConsumers(js: JetStreamClient, names: DesignNames, n: number, deadline: number, onMessage: OnMessage): Promise<Created> {
  const iters: ConsumerMessages[] = [];
  const r = await createEach(n, 100, deadline, async (i) => {
    const consumer = await js.consumers.get(names.stream, { filterSubjects: `${names.prefix}.room.${roomId(i)}.*`, deliver_policy: DeliverPolicy.New });
    const iter = await consumer.consume({ max_messages: 512 });
    iters.push(iter);
    void (async () => {
      for await (const m of iter) onMessage(i, m.data);
    })().catch(() => undefined);
  });
  return { ...r, close: async () => iters.forEach((it) => it.stop()) };
}
