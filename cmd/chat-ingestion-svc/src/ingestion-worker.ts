import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg } from 'nats';
import type { Kafka, Message, Producer } from 'kafkajs';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { deadLetterRecord, decodeEnvelope, envelopeRecord, rejectionReason, type DeadLetter, type Envelope } from '@parley/envelope';
import { ensureMessageStream, roomOfSubject, roomSubjectWildcard } from '@parley/nats';
import { ParleyError, toParleyError } from '@parley/errors';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { Backoff } from '@parley/lifecycle';
import type { Registry } from '@parley/metrics';
import { observeAge } from '@parley/pipeline';
import { endSpan, natsTraceContext, ROOT_CONTEXT, SpanKind, startSpan, traceHeaders, trace, tracerOf, type Span, type Tracer } from '@parley/tracing';
import { ingestionMetrics, type IngestionMetrics } from './ingestion-metrics.js';

export interface IngestionOptions {
  natsUrl: string;
  kafka: Kafka;
  stream: string;
  subjectPrefix: string;
  durable: string;
  topic: string;
  dlqTopic: string;
  /** Most messages held between JetStream delivery and Kafka ack (max_ack_pending). */
  bufferSize: number;
  /** Records per Kafka produce request. */
  batchMax: number;
  /** Producers sending at once, each for its own share of the rooms (default 1). */
  lanes?: number;
  ackWaitMs: number;
  maxBodyBytes: number;
  service: string;
  log: Logger;
  onFatal: (err: unknown) => void;
  /** The process's registry: consumer backlog, redeliveries, produce errors, dead letters, age in Kafka. */
  metrics?: Registry;
}

/** One producer and the queue of the rooms it sends; `flushing` while a flush loop runs. */
interface Lane {
  producer: Producer;
  pending: Item[];
  flushing: Promise<void> | undefined;
}

interface Item {
  msg: JsMsg;
  env?: Envelope;
  err?: ParleyError;
  /** From delivery until the ack: the message's time in ingestion. */
  span?: Span;
}

/**
 * JetStream durable pull consumer → Kafka, at least once.
 *
 * Invariants:
 * - A JetStream message is acked only after Kafka acknowledged its record (acks=all,
 *   idempotent producer), or after its dead letter was acknowledged. A crash at any point
 *   leaves it unacked and JetStream redelivers it after ack_wait.
 * - At most `bufferSize` messages are unacked at once: the server enforces it through
 *   max_ack_pending, so a slow Kafka slows the pull instead of growing memory.
 * - Rooms are spread over `lanes`, each with its own idempotent producer (one request in
 *   flight) and its own queue: a room always goes through the same lane, whose flushes run one
 *   at a time in delivery order, so a room's records reach Kafka in the order they left the
 *   stream (the key keeps them on one partition). Lanes only add produce requests in flight.
 * - Instances sharing the durable share the work; what an instance holds while it dies is
 *   redelivered to the others.
 *
 * Traced (its NATS headers carry a sampled traceparent), a message gets an `ingest` span (delivery → ack) under the edge's publish, and a
 * `kafka produce` span under it (produce request → Kafka's ack) whose `traceparent` goes into
 * the record's headers for the command workers.
 */
export class IngestionWorker implements Component {
  readonly name = 'ingestion';
  private nats: ClientHandle<NatsClients> | undefined;
  private lanes: Lane[] = [];
  private messages: ConsumerMessages | undefined;
  private reading: Promise<void> | undefined;
  private stopping = new AbortController();
  private readonly metrics: IngestionMetrics | undefined;
  /** The service's tracer, bound to its registry (undefined: tracing off). */
  private readonly tracer: Tracer | undefined;

  constructor(private readonly o: IngestionOptions) {
    this.tracer = tracerOf(o.metrics);
    this.metrics =
      o.metrics === undefined ? undefined : ingestionMetrics(o.metrics, { jsm: () => this.nats?.client.jsm, stream: o.stream, durable: o.durable, inFlight: () => this.lanes.reduce((n, l) => n + l.pending.length, 0) });
  }

  async start(): Promise<void> {
    const o = this.o;
    this.stopping = new AbortController();
    this.nats = await connectNats({ url: o.natsUrl, name: o.service, onStatus: (type, data) => o.log.info({ type, data }, 'nats status') });
    const { jsm } = this.nats.client;
    await ensureMessageStream(jsm, { name: o.stream, prefix: o.subjectPrefix });
    const consumerConfig = {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(o.ackWaitMs),
      max_ack_pending: o.bufferSize,
      max_deliver: -1,
      filter_subject: roomSubjectWildcard(o.subjectPrefix),
    };
    try {
      await jsm.consumers.info(o.stream, o.durable);
      await jsm.consumers.update(o.stream, o.durable, { ack_wait: consumerConfig.ack_wait, max_ack_pending: o.bufferSize });
    } catch {
      await jsm.consumers.add(o.stream, consumerConfig);
    }
    this.lanes = [];
    for (let i = 0; i < Math.max(1, o.lanes ?? 1); i++) this.lanes.push({ producer: await this.newProducer(), pending: [], flushing: undefined });
    this.reading = this.readLoop();
  }

  /** Readiness: the JetStream connection answers (the durable is read through it). */
  async natsHealth(): Promise<void> {
    if (!this.nats) throw new Error('not connected yet');
    await this.nats.health();
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopping.abort(new ParleyError('SHUTTING_DOWN', 'ingestion stopping'));
    this.messages?.stop();
    await this.reading;
    // Finish the batch already handed to Kafka; give the rest back for another instance.
    await Promise.race([Promise.all(this.lanes.map((l) => l.flushing)), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    for (const item of this.lanes.flatMap((l) => l.pending.splice(0))) {
      item.msg.nak();
      item.span?.end();
    }
    await Promise.all(this.lanes.map((l) => l.producer.disconnect().catch(() => undefined)));
    await this.nats?.close();
  }

  private async newProducer(): Promise<Producer> {
    const p = this.o.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    return p;
  }

  private async readLoop(): Promise<void> {
    const backoff = new Backoff({ maxMs: 3000 });
    while (!this.stopping.signal.aborted) {
      try {
        const consumer = await this.nats!.client.js.consumers.get(this.o.stream, this.o.durable);
        this.messages = await consumer.consume({ max_messages: this.o.bufferSize });
        for await (const msg of this.messages) {
          if (msg.redelivered) this.metrics?.redeliveries.inc();
          const lane = this.laneOf(msg.subject);
          lane.pending.push(this.decode(msg));
          this.kick(lane);
          backoff.reset();
        }
      } catch (err) {
        this.o.log.warn({ err }, 'jetstream consume failed; resubscribing');
      }
      if (this.stopping.signal.aborted) return;
      await backoff.wait(this.stopping.signal).catch(() => undefined);
    }
  }

  private decode(msg: JsMsg): Item {
    const item: Item = { msg };
    const { tracer } = this;
    const parent = tracer ? natsTraceContext(msg.headers) : undefined;
    if (tracer && parent) {
      item.span = startSpan(tracer, 'ingest', SpanKind.CONSUMER, { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject, 'parley.stream_seq': msg.info.streamSequence }, parent);
    }
    try {
      item.env = decodeEnvelope(msg.data, { maxBodyBytes: this.o.maxBodyBytes });
      item.span?.setAttribute('parley.message_id', item.env.id);
    } catch (err) {
      item.err = toParleyError(err, 'POISON_MESSAGE');
    }
    return item;
  }

  /** The lane of a room (its subject names it): the same one for every message of the room. */
  private laneOf(subject: string): Lane {
    if (this.lanes.length === 1) return this.lanes[0]!;
    let h = 0;
    for (let i = 0; i < subject.length; i++) h = (Math.imul(h, 31) + subject.charCodeAt(i)) | 0;
    return this.lanes[(h >>> 0) % this.lanes.length]!;
  }

  private kick(lane: Lane): void {
    if (lane.flushing) return;
    lane.flushing = (async () => {
      try {
        while (lane.pending.length > 0 && !this.stopping.signal.aborted) {
          const batch = lane.pending.slice(0, this.o.batchMax);
          if (!(await this.flush(lane, batch))) return;
          lane.pending.splice(0, batch.length);
        }
      } catch (err) {
        this.o.onFatal(err);
      } finally {
        lane.flushing = undefined;
        if (lane.pending.length > 0 && !this.stopping.signal.aborted) this.kick(lane);
      }
    })();
  }

  /** Produces, dead-letters, then acks one batch. False when interrupted by shutdown. */
  private async flush(lane: Lane, batch: Item[]): Promise<boolean> {
    const good = batch.filter((i) => i.env !== undefined);
    const bad = batch.filter((i) => i.err !== undefined);
    const keepAlive = setInterval(() => batch.forEach((i) => i.msg.working()), Math.max(500, this.o.ackWaitMs / 3));
    try {
      if (good.length > 0) {
        const { tracer } = this;
        const spans = tracer ? good.map((i) => (i.span ? this.produceSpan(tracer, i.span, i) : undefined)) : undefined;
        const records = good.map((i, n) => {
          const rec = envelopeRecord(i.env!);
          const span = spans?.[n];
          return span ? { ...rec, headers: { ...rec.headers, ...traceHeaders(span) } } : rec;
        });
        const sent = await this.produce(lane, this.o.topic, records);
        spans?.forEach((span) => span?.end());
        if (!sent) return false;
        this.produced(good.map((i) => i.env!));
      }
      if (bad.length > 0) {
        const letters = bad.map((i) => this.letter(i));
        if (!(await this.produce(lane, this.o.dlqTopic, letters.map((d) => deadLetterRecord(d))))) return false;
        for (const d of letters) {
          this.o.log.warn({ reason: d.reason, source: d.source, detail: d.message }, 'dead-lettered');
          this.metrics?.deadLetters.inc({ reason: d.reason });
        }
        this.metrics?.messages.inc({ outcome: 'dead_lettered' }, letters.length);
      }
    } finally {
      clearInterval(keepAlive);
    }
    // Poison is acked, not terminated: its copy in the dead-letter topic is now the record of
    // it, and `+TERM <reason>` is ignored by servers before 2.10.
    for (const i of batch) {
      i.msg.ack();
      if (i.span) endSpan(i.span, i.err);
    }
    return true;
  }

  private produceSpan(tracer: Tracer, ingest: Span, i: Item): Span {
    const parent = trace.setSpan(ROOT_CONTEXT, ingest);
    return startSpan(tracer, 'kafka produce', SpanKind.PRODUCER, { 'messaging.system': 'kafka', 'messaging.destination.name': this.o.topic, 'messaging.kafka.message.key': i.env?.room_id ?? '' }, parent);
  }

  private produced(envs: Envelope[]): void {
    const m = this.metrics;
    if (!m) return;
    const now = Date.now();
    for (const e of envs) observeAge(m, 'in_kafka', e.created_at, now);
    m.messages.inc({ outcome: 'produced' }, envs.length);
  }

  private async produce(lane: Lane, topic: string, messages: Message[]): Promise<boolean> {
    const backoff = new Backoff();
    for (;;) {
      try {
        await lane.producer.send({ topic, acks: -1, messages });
        return true;
      } catch (err) {
        this.metrics?.producerErrors.inc({ topic });
        this.o.log.warn({ err, topic, attempt: backoff.attempts, count: messages.length }, 'kafka produce failed; holding the batch and retrying');
        // A failed idempotent producer may be left with sequence numbers the broker rejects;
        // a fresh producer id starts clean. Duplicates this may cause are absorbed downstream.
        await lane.producer.disconnect().catch(() => undefined);
        try {
          await backoff.wait(this.stopping.signal);
        } catch {
          return false;
        }
        lane.producer = await this.newProducer().catch(() => lane.producer);
      }
    }
  }

  private letter(i: Item): DeadLetter {
    const info = i.msg.info;
    // A NATS message has no key; its subject names the room, which is the key its record
    // would have had (so a redrive lands on the room's partition).
    const room = roomOfSubject(i.msg.subject, this.o.subjectPrefix);
    return {
      key: room === undefined ? null : Buffer.from(room, 'utf8'),
      value: Buffer.from(i.msg.data),
      reason: rejectionReason(i.err!),
      message: i.err!.message,
      source: `nats:${info.stream}:${info.streamSequence}:${i.msg.subject}`,
      service: this.o.service,
    };
  }
}
