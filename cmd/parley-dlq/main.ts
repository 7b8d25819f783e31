/**
 * `make dlq ARGS="list"`: the dead-letter topic for operators (list, show, redrive). See src/cli.ts.
 */
import { kafkaFields, parseConfig, ConfigError } from '@parley/config';
import { createKafka } from '@parley/clients';
import { pipelineFields } from '@parley/pipeline';
import { runDlq } from './src/cli.js';

let config;
try {
  config = parseConfig({ ...kafkaFields, topic: pipelineFields.topic, dlqTopic: pipelineFields.dlqTopic }, process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`parley-dlq: ${err.message}\n`);
  process.exit(78);
}
const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'parley-dlq' });
const code = await runDlq(process.argv.slice(2), kafka.client, config, { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) });
await kafka.close();
process.exit(code);
