import type { ConfigOf } from '@parley/config';
import { createElastic, createKafka } from '@parley/clients';
import { createLogger } from '@parley/log';
import { reindex, ReindexError, type ReindexReport } from './reindex.js';
import type { spec } from './config.js';

/** Connects, rebuilds, reports; 0 when the alias moved, 1 when the rebuild refused or failed. */
export async function runReindex(config: ConfigOf<typeof spec>, out: (line: string) => void): Promise<number> {
  const log = createLogger({ service: 'parley-reindex', level: config.logLevel });
  const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'parley-reindex' });
  const es = createElastic({ url: config.elasticsearchUrl });
  const admin = kafka.client.admin();
  const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  try {
    await Promise.all([admin.connect(), producer.connect()]);
    const report: ReindexReport = await reindex(
      { es: es.client, kafka: kafka.client, admin, producer, log },
      {
        prefix: config.elasticsearchIndexPrefix,
        topic: config.topic,
        dlqTopic: config.dlqTopic,
        groupId: config.groupId,
        maxBodyBytes: config.maxBodyBytes,
        bulkMaxDocs: config.bulkMaxDocs,
        switchLag: config.switchLag,
        guardAgeMs: config.guardAgeS * 1000,
        timeoutMs: config.timeoutS * 1000,
        oldIndices: config.oldIndices,
        allowTruncated: config.allowTruncated,
      },
    );
    out(JSON.stringify(report, null, 2));
    return 0;
  } catch (err) {
    if (!(err instanceof ReindexError)) throw err;
    log.error({ err }, 'reindex refused or failed; the alias was not moved unless the report above says so');
    out(`parley-reindex: ${err.message}`);
    return 1;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await kafka.close().catch(() => undefined);
    await es.close().catch(() => undefined);
  }
}
