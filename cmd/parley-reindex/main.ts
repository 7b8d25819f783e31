/**
 * `make reindex`: rebuild Elasticsearch from the Kafka log into a new index and move the alias
 * to it while chat goes on (src/reindex.ts). Prints the report as JSON; exit 1 if nothing moved.
 */
import { ConfigError, parseConfig } from '@parley/config';
import { runReindex } from './src/run.js';
import { spec } from './src/config.js';

let config;
try {
  config = parseConfig(spec, process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`parley-reindex: ${err.message}\n`);
  process.exit(78);
}
process.exit(await runReindex(config, (line) => process.stdout.write(`${line}\n`)));
