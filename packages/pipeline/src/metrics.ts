import type { Admin } from 'kafkajs';
import { AGE_BUCKETS, Counter, DURATION_BUCKETS, Histogram, polledGauge, shared, type Gauge, type Registry } from '@parley/metrics';

/**
 * Where a message is when its age is measured: in Kafka (ingestion's produce was acked),
 * readable (the Cassandra write returned), searchable (the Elasticsearch bulk returned; the
 * document is visible to search after the index's next refresh, at most 1 s later).
 */
export type Hop = 'in_kafka' | 'readable' | 'searchable';

/**
 * The write path's metric families, shared by ingestion, the sink workers and the dead-letter
 * sink of one process:
 *
 *   parley_message_age_seconds{hop}                          now − envelope created_at, per message
 *   parley_dead_letters_total{reason}                        records dead-lettered (after the DLQ acked)
 *   parley_store_write_duration_seconds{store,outcome}       one sink write call (a CQL round, an ES bulk)
 *   parley_store_records_total{store,outcome}                stored | retried | dead_lettered
 *   parley_kafka_producer_errors_total{topic}                failed produce requests (each is retried)
 *
 * `created_at` is the sending edge's clock, so an age includes the skew between that edge's
 * clock and this process's: a few milliseconds on one host, NTP's bound across hosts.
 */
export interface PipelineMetrics {
  messageAge: Histogram<'hop'>;
  deadLetters: Counter<'reason'>;
  storeWrite: Histogram<'store' | 'outcome'>;
  storeRecords: Counter<'store' | 'outcome'>;
  producerErrors: Counter<'topic'>;
}

export function pipelineMetrics(registry: Registry): PipelineMetrics {
  return shared(registry, 'pipeline', (r) => ({
    messageAge: new Histogram({ name: 'parley_message_age_seconds', help: 'age of a message (since the edge accepted it) when it reached the hop', labelNames: ['hop'], buckets: AGE_BUCKETS, registers: [r] }),
    deadLetters: new Counter({ name: 'parley_dead_letters_total', help: 'records stored in the dead-letter topic, by reason', labelNames: ['reason'], registers: [r] }),
    storeWrite: new Histogram({ name: 'parley_store_write_duration_seconds', help: 'duration of one store write (a CQL round, an ES bulk request)', labelNames: ['store', 'outcome'], buckets: DURATION_BUCKETS, registers: [r] }),
    storeRecords: new Counter({ name: 'parley_store_records_total', help: 'records handled by a store write, by outcome', labelNames: ['store', 'outcome'], registers: [r] }),
    producerErrors: new Counter({ name: 'parley_kafka_producer_errors_total', help: 'failed Kafka produce requests (each is retried)', labelNames: ['topic'], registers: [r] }),
  }));
}

/** Records one message reaching `hop` now. */
export function observeAge(m: PipelineMetrics, hop: Hop, createdAtMs: number, nowMs = Date.now()): void {
  m.messageAge.observe({ hop }, Math.max(0, nowMs - createdAtMs) / 1000);
}

/**
 * `parley_kafka_consumer_lag_messages{group,topic,partition}`: the end offset of each partition
 * minus the group's committed offset, read from the broker at each scrape. Committed offsets
 * are what matter: a record is in the store once its offset is committed, so this is exactly
 * "records not yet stored", and it grows while the worker is stuck retrying a store that is away
 * (a lag computed from fetched batches would freeze then).
 */
export function kafkaLagGauge(registry: Registry, source: { admin: () => Admin | undefined; groupId: string; topic: string }): Gauge<'group' | 'topic' | 'partition'> {
  const { groupId: group, topic } = source;
  return polledGauge(registry, {
    name: 'parley_kafka_consumer_lag_messages',
    help: 'records of the topic the consumer group has not committed yet, per partition',
    labelNames: ['group', 'topic', 'partition'],
    read: () => {
      const admin = source.admin();
      return admin && consumerLag(admin, group, topic).then((lag) => [...lag].map(([partition, n]) => [{ group, topic, partition: String(partition) }, n]));
    },
  });
}

/** Per partition: end offset − committed offset (from the start of the log when nothing is committed). */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const lag = new Map<number, number>();
  for (const p of ends) {
    const end = Number(p.high);
    const at = done.get(p.partition) ?? -1;
    lag.set(p.partition, Math.max(0, end - (at < 0 ? Number(p.low) : at)));
  }
  return lag;
}
