import { field, types } from '@parley/config';
import { DEFAULT_DLQ_TOPIC, DEFAULT_MAX_BODY_BYTES, DEFAULT_TOPIC } from '@parley/envelope';

/** The config every write-path worker shares: the message topic, its dead-letter topic, the body limit. */
export const pipelineFields = {
  topic: field({ env: 'KAFKA_TOPIC', schema: types.string(200), default: DEFAULT_TOPIC, doc: 'Kafka topic of messages (key = room id)' }),
  dlqTopic: field({ env: 'KAFKA_DLQ_TOPIC', schema: types.string(200), default: DEFAULT_DLQ_TOPIC, doc: 'dead-letter topic' }),
  maxBodyBytes: field({ env: 'MESSAGE_MAX_BODY_BYTES', schema: types.int(1, 1_000_000), default: String(DEFAULT_MAX_BODY_BYTES), doc: 'largest accepted message body, UTF-8 bytes' }),
};
