/**
 * Shared set-up for the write-path integration tests: random names for every resource, the
 * topics created with several partitions, the services built from their real definitions and
 * run in-process, and readers for what landed in Kafka.
 */
import type { Kafka, KafkaMessage, Consumer } from 'kafkajs';
import type { JetStreamClient } from 'nats';
import { parseConfig, commonFields, type ConfigSpec, type ConfigOf } from '@parley/config';
import { createElastic, createKafka, elasticNames } from '@parley/clients';
import { Snowflake, encodeEnvelope, newMessageEnvelope, type Envelope } from '@parley/envelope';
import type { MessageEvent } from '@parley/contracts';
import { roomSubject, publishMsgId } from '@parley/nats';
import { Runner } from '@parley/lifecycle';
import { silentLogger, createLogger } from '@parley/log';
import type { ServiceDefinition } from '@parley/service';
import { createMetricsRegistry } from '@parley/metrics';
import { infra, uniqueName } from './index.js';
import { ensureTopics } from '@parley/pipeline';

export interface PipelineNames {
  stream: string;
  prefix: string;
  durable: string;
  topic: string;
  dlqTopic: string;
  keyspace: string;
  esPrefix: string;
  cqlGroup: string;
  esGroup: string;
}

export function pipelineNames(): PipelineNames {
  const base = uniqueName('wp');
  return {
    stream: `S_${base}`,
    prefix: `p_${base}`,
    durable: `ingest_${base}`,
    topic: `${base}.messages`,
    dlqTopic: `${base}.messages.dlq`,
    keyspace: base,
    esPrefix: base,
    cqlGroup: `${base}.cql`,
    esGroup: `${base}.es`,
  };
}

/** Environment for any of the three services, pointed at the random names. */
export function pipelineEnv(n: PipelineNames, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    NATS_URL: infra.natsUrl,
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    CASSANDRA_CONTACT_POINTS: infra.cassandraContactPoints.join(','),
    CASSANDRA_LOCAL_DC: infra.cassandraLocalDc,
    CASSANDRA_KEYSPACE: n.keyspace,
    ELASTICSEARCH_URL: infra.elasticsearchUrl,
    ELASTICSEARCH_INDEX_PREFIX: n.esPrefix,
    NATS_STREAM: n.stream,
    NATS_SUBJECT_PREFIX: n.prefix,
    INGESTION_DURABLE: n.durable,
    KAFKA_TOPIC: n.topic,
    KAFKA_DLQ_TOPIC: n.dlqTopic,
    KAFKA_TOPIC_PARTITIONS: '3',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...extra,
  };
}

/** Builds a service from its definition and starts it in this process; returns its runner. */
export async function runService<S extends ConfigSpec>(def: ServiceDefinition<S>, env: Record<string, string | undefined>): Promise<Runner> {
  const config = parseConfig({ ...def.spec, ...commonFields }, env) as unknown as ConfigOf<S & typeof commonFields>;
  const level = env['LOG_LEVEL'] ?? 'silent';
  const log = level === 'silent' ? silentLogger() : createLogger({ service: def.name, level });
  const runner = new Runner({ onFatal: (name, err) => log.error({ name, err }, 'fatal') });
  await def.build({ config, log, runner, metrics: createMetricsRegistry(def.name) });
  await runner.start(60_000);
  return runner;
}

export async function createTopics(n: PipelineNames, partitions = 3): Promise<{ kafka: Kafka; drop: () => Promise<void> }> {
  const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: 'write-path-test' }).client;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [n.topic, n.dlqTopic], partitions);
  } catch (err) {
    // A leaked admin connection would keep the test process alive until the file times out.
    await admin.disconnect();
    throw err;
  }
  return {
    kafka,
    drop: async () => {
      await admin.deleteTopics({ topics: [n.topic, n.dlqTopic] }).catch(() => undefined);
      for (const g of [n.cqlGroup, n.esGroup]) await admin.deleteGroups([g]).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** Collects every record of a topic from the beginning, in arrival order per partition. */
export async function collectTopic(kafka: Kafka, topic: string): Promise<{ records: Array<KafkaMessage & { partition: number }>; stop: () => Promise<void> }> {
  const records: Array<KafkaMessage & { partition: number }> = [];
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message, partition }) => void records.push({ ...message, partition }) });
  return { records, stop: () => consumer.disconnect() };
}

/** `count` message envelopes spread round-robin over `rooms`, with increasing ids. */
export function makeEnvelopes(count: number, rooms: string[], body = (i: number) => `message ${i}`): MessageEvent[] {
  const gen = new Snowflake({ instance: Math.floor(Math.random() * 1024) });
  return Array.from({ length: count }, (_, i) =>
    newMessageEnvelope(gen.next(), {
      room_id: rooms[i % rooms.length]!,
      sender_id: `u${i % 7}`,
      sender_name: `User ${i % 7}`,
      body: body(i),
      client_msg_id: `c${i}`,
    }),
  );
}

/** Publishes through JetStream and waits for each PubAck, as the edge does. */
export async function publishAll(js: JetStreamClient, prefix: string, envs: Envelope[]): Promise<void> {
  const window = 200;
  for (let i = 0; i < envs.length; i += window) {
    await Promise.all(
      envs.slice(i, i + window).map((e) => js.publish(roomSubject(e.room_id, prefix), encodeEnvelope(e), { msgID: publishMsgId(e.room_id, e.sender_id, e.client_msg_id) })),
    );
  }
}

export function headerString(m: KafkaMessage, name: string): string | undefined {
  const v = m.headers?.[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[0]) : String(v);
}

/** A keyspace migrated with the project's own cql/ files; dropped by the returned function. */
export async function migratedKeyspace(keyspace: string): Promise<{ client: import('cassandra-driver').Client; drop: () => Promise<void> }> {
  const { createCassandra } = await import('@parley/clients');
  const { migrateCassandra } = await import('@parley/migrate');
  const c = createCassandra({ contactPoints: infra.cassandraContactPoints, localDataCenter: infra.cassandraLocalDc });
  await migrateCassandra({ client: c.client, keyspace, dir: new URL('../../../cql', import.meta.url).pathname, direction: 'up' });
  return {
    client: c.client,
    drop: async () => {
      await c.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await c.close();
    },
  };
}

/**
 * Everything a write-path test writes into, under the random names: a migrated keyspace,
 * Elasticsearch (its templates and indices removed afterwards) and the topics; released by `defer`.
 */
export async function pipelineStores(defer: (fn: () => unknown) => void, n: PipelineNames) {
  const { removeElasticTemplates } = await import('@parley/migrate');
  const ks = await migratedKeyspace(n.keyspace);
  defer(ks.drop);
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, n.esPrefix));
  const topics = await createTopics(n);
  defer(topics.drop);
  return { cql: ks.client, es: es.client, alias: elasticNames(n.esPrefix).alias, kafka: topics.kafka };
}

/** Poison records as they could arrive from a broken producer, each with the reason it must get. */
export function poisonValues(valid: MessageEvent): Array<[reason: string, value: Buffer]> {
  return [
    ['bad_json', Buffer.from('{"v":1,"id":')],
    ['unsupported_version', Buffer.from(JSON.stringify({ ...valid, v: 2 }))],
    ['invalid_field', Buffer.from(JSON.stringify({ ...valid, body: undefined }))],
    ['body_too_large', Buffer.from(encodeEnvelope({ ...valid, body: 'x'.repeat(4097) }))],
  ];
}

/** Every message document behind the alias, oldest first, after a refresh. */
export async function searchAll(es: import('@elastic/elasticsearch').Client, alias: string): Promise<Array<{ _id: string; room_id: string; body: string }>> {
  await es.indices.refresh({ index: alias });
  const res = await es.search<{ room_id: string; body: string }>({ index: alias, size: 10_000, sort: [{ seq: 'asc' }], track_total_hits: true });
  return res.hits.hits.map((h) => ({ _id: h._id!, room_id: h._source!.room_id, body: h._source!.body }));
}
