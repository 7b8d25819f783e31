import type { JetStreamManager } from 'nats';
import { Counter, Gauge, polledGauge, type Registry } from '@parley/metrics';
import { pipelineMetrics, type PipelineMetrics } from '@parley/pipeline';

export interface IngestionMetrics extends PipelineMetrics {
  /** Messages JetStream delivered again (after ack_wait, or a nak at another instance's stop). */
  redeliveries: Counter;
  /** Messages handed on, by outcome: `produced` (Kafka acked) or `dead_lettered`. */
  messages: Counter<'outcome'>;
}

/**
 * Ingestion's families besides the write path's shared ones (pipelineMetrics):
 *
 *   parley_jetstream_consumer_pending_messages{stream,consumer}       not yet delivered (the backlog)
 *   parley_jetstream_consumer_ack_pending_messages{stream,consumer}   delivered, not yet acked (≤ INGESTION_BUFFER)
 *   parley_jetstream_consumer_redelivered_messages{stream,consumer}   delivered more than once and still unacked
 *   parley_jetstream_redeliveries_total                               redelivered messages this process received
 *   parley_ingestion_in_flight_messages                               held between delivery and Kafka ack here
 *   parley_ingestion_messages_total{outcome}                          produced | dead_lettered
 *
 * The consumer gauges come from the durable's info at each scrape (the server's view, shared
 * by every instance), so the backlog is seen even while this instance is stuck on Kafka.
 */
export function ingestionMetrics(registry: Registry, source: { jsm: () => JetStreamManager | undefined; stream: string; durable: string; inFlight: () => number }): IngestionMetrics {
  const labels = { stream: source.stream, consumer: source.durable };
  const consumerGauge = (name: string, help: string, read: (i: { num_pending: number; num_ack_pending: number; num_redelivered: number }) => number) =>
    polledGauge(registry, {
      name,
      help,
      labelNames: ['stream', 'consumer'],
      read: () => source.jsm()?.consumers.info(source.stream, source.durable).then((info) => [[labels, read(info)]]),
    });
  consumerGauge('parley_jetstream_consumer_pending_messages', 'messages of the stream the durable consumer has not delivered yet', (i) => i.num_pending);
  consumerGauge('parley_jetstream_consumer_ack_pending_messages', 'messages delivered to the durable consumer and not yet acked', (i) => i.num_ack_pending);
  consumerGauge('parley_jetstream_consumer_redelivered_messages', 'unacked messages that were delivered more than once', (i) => i.num_redelivered);
  new Gauge({
    name: 'parley_ingestion_in_flight_messages',
    help: 'messages this instance holds between JetStream delivery and the Kafka ack',
    registers: [registry],
    collect() {
      this.set(source.inFlight());
    },
  });
  const shared = pipelineMetrics(registry);
  // Present (at zero) from the start: a rate over the first messages needs a sample before them.
  shared.messageAge.zero({ hop: 'in_kafka' });
  return {
    ...shared,
    redeliveries: new Counter({ name: 'parley_jetstream_redeliveries_total', help: 'messages JetStream delivered to this process more than once', registers: [registry] }),
    messages: new Counter({ name: 'parley_ingestion_messages_total', help: 'messages handed on from the stream, by outcome', labelNames: ['outcome'], registers: [registry] }),
  };
}
