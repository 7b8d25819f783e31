import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { decodeEnvelope, EnvelopeError, rejectionReason, type DeadLetter, type Envelope } from '@parley/envelope';
import { toParleyError, ParleyError } from '@parley/errors';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { Backoff } from '@parley/lifecycle';
import type { DeadLetterSink } from './dead-letters.js';
import type { MessageSink } from './message-sink.js';
import { secondsSince, type Registry } from '@parley/metrics';
import { kafkaLagGauge, observeAge, pipelineMetrics, type Hop, type PipelineMetrics } from './metrics.js';
import { endSpan, kafkaTraceContext, SpanKind, startSpan, tracerOf, type Context, type Span, type Tracer } from '@parley/tracing';

export interface SinkWorkerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  sink: MessageSink;
  deadLetters: DeadLetterSink;
  log: Logger;
  service: string;
  /** Records per store write (a CQL round of upserts, one ES bulk request). */
  maxBatch: number;
  /** How long the broker may hold a fetch to fill it: batching by time. */
  maxWaitMs: number;
  /** The broker answers a fetch early once it has this much: with maxWaitMs, "count or time". */
  minBytes?: number;
  maxBodyBytes: number;
  /** A crash kafkajs will not restart from: the service must stop. */
  onFatal: (err: unknown) => void;
  /**
   * Where the worker's metrics go: store write latency and outcomes, dead letters, the group's
   * lag per partition, and the age of each stored message at `hop` (see pipelineMetrics).
   */
  metrics?: { registry: Registry; hop: Hop };
}

/**
 * Kafka consumer group → MessageSink, at least once.
 *
 * Invariant: an offset is committed only after every record before it is either stored by
 * the sink or stored in the dead-letter topic. Retryable failures are retried with backoff
 * for as long as it takes (heartbeating, so the group keeps the partition); the partition
 * stalls rather than skips. A rebalance or shutdown mid-batch leaves the rest uncommitted:
 * the next owner replays it, and idempotent writes make the replay harmless.
 *
 * Traced (a tracer bound to the registry in `metrics`), each record whose headers carry a
 * sampled `traceparent` gets a span `<sink> write` under the `kafka produce` span it names,
 * from the first attempt until it is stored or dead-lettered.
 */
export class SinkWorker implements Component {
  readonly name: string;
  private consumer: Consumer | undefined;
  /** Reads the group's committed offsets for the lag gauge; connected while the worker runs. */
  private admin: Admin | undefined;
  private stopping = new AbortController();
  private readonly metrics: (PipelineMetrics & { hop: Hop }) | undefined;
  private readonly tracer: Tracer | undefined;

  constructor(private readonly opts: SinkWorkerOptions) {
    this.name = `${opts.sink.name}-worker`;
    this.tracer = tracerOf(opts.metrics?.registry);
    const m = opts.metrics;
    if (m) {
      this.metrics = { ...pipelineMetrics(m.registry), hop: m.hop };
      // Present (at zero) from the start: a rate over the first messages needs a sample before them.
      this.metrics.messageAge.zero({ hop: m.hop });
      this.metrics.storeRecords.inc({ store: opts.sink.name, outcome: 'stored' }, 0);
      kafkaLagGauge(m.registry, { admin: () => this.admin, groupId: opts.groupId, topic: opts.topic });
    }
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.stopping = new AbortController();
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      // A SIGKILLed member holds its partitions until this expires; long retries heartbeat.
      sessionTimeout: 15_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: o.maxWaitMs,
      minBytes: o.minBytes ?? 1,
      maxBytes: 8 * 1024 * 1024,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 30 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      o.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart) o.onFatal(e.payload.error);
    });
    await consumer.connect();
    if (this.metrics) {
      const admin = o.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    // A new group starts from the beginning: a message published before the first deploy is still a message.
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (p) => this.eachBatch(p),
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort(new ParleyError('SHUTTING_DOWN', 'worker stopping'));
    await this.consumer?.disconnect();
    this.consumer = undefined;
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    for (let i = 0; i < batch.messages.length; i += this.opts.maxBatch) {
      if (!p.isRunning() || p.isStale()) return;
      const chunk = batch.messages.slice(i, i + this.opts.maxBatch);
      const done = await this.process(batch.topic, batch.partition, chunk, p);
      if (!done) return;
      const last = chunk[chunk.length - 1]!.offset;
      p.resolveOffset(last);
      try {
        await this.consumer?.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      } catch (err) {
        // Lost the partition or the broker blinked: the next owner replays from the last commit.
        this.opts.log.warn({ err, partition: batch.partition }, 'offset commit failed; records will be replayed');
        return;
      }
      await p.heartbeat().catch(() => undefined);
    }
  }

  /** Stores or dead-letters every record of the chunk; false when interrupted (nothing to commit). */
  private async process(topic: string, partition: number, records: KafkaMessage[], p: EachBatchPayload): Promise<boolean> {
    const letters: DeadLetter[] = [];
    let pending: Array<{ env: Envelope; rec: KafkaMessage; span?: Span }> = [];
    for (const rec of records) {
      try {
        const env = decodeEnvelope(rec.value ?? new Uint8Array(), { maxBodyBytes: this.opts.maxBodyBytes });
        const parent = this.tracer ? kafkaTraceContext(rec.headers) : undefined;
        pending.push(this.tracer && parent ? { env, rec, span: this.writeSpan(this.tracer, parent, env, rec, partition) } : { env, rec });
      } catch (err) {
        letters.push(this.letter(topic, partition, rec, err instanceof EnvelopeError ? err : toParleyError(err, 'POISON_MESSAGE')));
      }
    }
    const backoff = new Backoff();
    const signal = this.stopping.signal;
    while (pending.length > 0) {
      let results: Array<ParleyError | undefined>;
      const started = process.hrtime.bigint();
      try {
        results = await this.opts.sink.write(pending.map((x) => x.env), signal);
      } catch (err) {
        const e = toParleyError(err, 'DEPENDENCY_UNAVAILABLE');
        if (!e.canRetry) {
          results = pending.map(() => e);
        } else {
          this.measureWrite(started, 'error', pending.length, 0, 0);
          this.opts.log.warn({ err: e, attempt: backoff.attempts, partition }, `${this.opts.sink.name} unavailable; retrying`);
          if (!(await this.pause(backoff, p))) return interrupted(pending);
          continue;
        }
      }
      const retry: typeof pending = [];
      const now = Date.now();
      let dead = 0;
      results.forEach((e, idx) => {
        const item = pending[idx]!;
        if (e === undefined) {
          if (this.metrics) observeAge(this.metrics, this.metrics.hop, item.env.created_at, now);
          item.span?.end();
          return;
        }
        if (e.canRetry) retry.push(item);
        else {
          dead += 1;
          letters.push(this.letter(topic, partition, item.rec, e));
          if (item.span) endSpan(item.span, e);
        }
      });
      this.measureWrite(started, retry.length + dead === 0 ? 'ok' : 'partial', retry.length, dead, pending.length - retry.length - dead);
      const firstRefusal = results.find((e) => e?.canRetry);
      pending = retry;
      if (pending.length > 0) {
        this.opts.log.warn({ count: pending.length, attempt: backoff.attempts, partition, reason: firstRefusal?.message }, 'retrying records the store refused for now');
        for (const item of pending) item.span?.addEvent('retry', { reason: firstRefusal?.message ?? '' });
        if (!(await this.pause(backoff, p))) return interrupted(pending);
      }
    }
    try {
      await this.opts.deadLetters.send(letters, signal);
    } catch {
      return false;
    }
    return true;
  }

  private writeSpan(tracer: Tracer, parent: Context, env: Envelope, rec: KafkaMessage, partition: number): Span {
    return startSpan(
      tracer,
      `${this.opts.sink.name} write`,
      SpanKind.CONSUMER,
      { 'db.system': this.opts.sink.name, 'messaging.system': 'kafka', 'messaging.kafka.partition': partition, 'messaging.kafka.offset': rec.offset, 'parley.message_id': env.id },
      parent,
    );
  }

  private measureWrite(started: bigint, outcome: 'ok' | 'partial' | 'error', retried: number, dead: number, stored: number): void {
    const m = this.metrics;
    if (!m) return;
    const store = this.opts.sink.name;
    m.storeWrite.observe({ store, outcome }, secondsSince(started));
    if (stored > 0) m.storeRecords.inc({ store, outcome: 'stored' }, stored);
    if (retried > 0) m.storeRecords.inc({ store, outcome: 'retried' }, retried);
    if (dead > 0) m.storeRecords.inc({ store, outcome: 'dead_lettered' }, dead);
  }

  private async pause(backoff: Backoff, p: EachBatchPayload): Promise<boolean> {
    await p.heartbeat().catch(() => undefined);
    try {
      await backoff.wait(this.stopping.signal);
    } catch {
      return false;
    }
    return p.isRunning() && !p.isStale();
  }

  private letter(topic: string, partition: number, rec: KafkaMessage, err: ParleyError): DeadLetter {
    return {
      key: rec.key,
      value: rec.value,
      reason: rejectionReason(err),
      message: err.message,
      source: `kafka:${topic}:${partition}:${rec.offset}`,
      service: this.opts.service,
    };
  }
}

/** Shutdown or a lost partition cut the write short: the next owner replays (and traces) it again. */
function interrupted(pending: ReadonlyArray<{ span?: Span }>): false {
  for (const item of pending) item.span?.setAttribute('parley.interrupted', true).end();
  return false;
}
