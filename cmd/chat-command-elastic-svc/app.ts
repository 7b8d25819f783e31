import { field, types, kafkaFields, opsFields, elasticFields } from '@parley/config';
import { createElastic, createKafka, elasticNames } from '@parley/clients';
import { component } from '@parley/lifecycle';
import { installElasticTemplates } from '@parley/migrate';
import { KafkaDeadLetterSink, SinkWorker, pipelineFields } from '@parley/pipeline';
import { addOpsServer, type ServiceDefinition } from '@parley/service';
import { ElasticMessageSink } from './src/elastic-message-sink.js';

export const spec = {
  ...kafkaFields,
  ...pipelineFields,
  ...opsFields,
  ...elasticFields,
  groupId: field({ env: 'KAFKA_GROUP_ID', schema: types.string(200), default: 'chat-command-elastic', doc: 'consumer group' }),
  bulkMaxDocs: field({ env: 'ELASTIC_BULK_MAX_DOCS', schema: types.int(1, 50_000), default: '1000', doc: 'documents per bulk request (batch by count)' }),
  bulkFlushMs: field({ env: 'ELASTIC_BULK_FLUSH_MS', schema: types.int(10, 10_000), default: '50', doc: 'longest wait to fill a bulk request (batch by time); a burst fills it by count long before' }),
  refreshMs: field({
    env: 'ELASTIC_REFRESH_MS',
    schema: types.int(0, 60_000),
    default: '250',
    doc: "after a bulk, refresh the alias at most this often so new documents are searchable sooner than the index's refresh_interval (1 s); 0: leave it to the index",
  }),
};

/** A typical record is ~300 bytes; the broker holds the fetch until about a full bulk is there. */
const APPROX_RECORD_BYTES = 256;

export const elasticCommandService: ServiceDefinition<typeof spec> = {
  name: 'chat-command-elastic-svc',
  spec,
  build({ config, log, runner, metrics }) {
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'chat-command-elastic-svc' });
    const es = createElastic({ url: config.elasticsearchUrl });
    addOpsServer(runner, { ...config, log, metrics, checks: [{ name: 'kafka', check: () => kafka.health() }, { name: 'elasticsearch', check: () => es.health() }] });
    runner.add(component('kafka-admin', () => undefined, () => kafka.close()));
    const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    runner.add(component('elasticsearch', () => installElasticTemplates(es.client, config.elasticsearchIndexPrefix).then(() => undefined), () => es.close()));
    runner.add(component('dlq-producer', () => producer.connect(), () => producer.disconnect()));
    const names = elasticNames(config.elasticsearchIndexPrefix);
    const sink = new ElasticMessageSink(es.client, names.alias, names.erasures, config.refreshMs);
    runner.add(component('refresher', () => undefined, () => sink.close()));
    runner.add(
      new SinkWorker({
        kafka: kafka.client,
        topic: config.topic,
        groupId: config.groupId,
        sink,
        deadLetters: new KafkaDeadLetterSink(producer, config.dlqTopic, log.child({ component: 'dlq' }), metrics),
        log: log.child({ component: 'elastic-worker' }),
        service: 'chat-command-elastic-svc',
        maxBatch: config.bulkMaxDocs,
        maxWaitMs: config.bulkFlushMs,
        minBytes: config.bulkMaxDocs * APPROX_RECORD_BYTES,
        maxBodyBytes: config.maxBodyBytes,
        metrics: { registry: metrics, hop: 'searchable' },
        onFatal: (err) => runner.fail('elastic-worker', err),
      }),
    );
  },
};
