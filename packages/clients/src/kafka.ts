import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  /** kafkajs log lines, for the caller to route to its logger. Default: dropped. */
  onLog?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: Record<string, unknown>) => void;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(opts: KafkaOptions): ClientHandle<Kafka> {
  const onLog = opts.onLog;
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    logLevel: onLog ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      onLog?.(LEVELS[entry.level] ?? 'info', `${entry.namespace}: ${message}`, extra);
    },
  });
  const admin = kafka.admin();
  let adminConnected = false;
  return {
    name: 'kafka',
    client: kafka,
    health: () =>
      withTimeout('kafka', DEFAULT_HEALTH_TIMEOUT_MS * 2, async () => {
        if (!adminConnected) {
          await admin.connect();
          adminConnected = true;
        }
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('kafka: cluster has no brokers');
      }),
    close: async () => {
      if (adminConnected) await admin.disconnect();
      adminConnected = false;
    },
  };
}
