/**
 * Operator entry point for schema changes:
 *   tsx scripts/migrate.ts <user|room|cql|es> <up|down> [steps]
 * PostgreSQL migrations live in migrations/<component>/, CQL in cql/, the ES template in
 * packages/migrate/src/elastic.ts.
 */
import { fileURLToPath } from 'node:url';
import { parseConfig, postgresFields, cassandraFields, elasticFields, ConfigError } from '@parley/config';
import { createPostgres, createCassandra, createElastic } from '@parley/clients';
import { migratePostgres, ensureDatabase, migrateCassandra, installElasticTemplates, removeElasticTemplates } from '@parley/migrate';

const root = fileURLToPath(new URL('../', import.meta.url));
const [target, direction, stepsArg] = process.argv.slice(2);

function usage(msg: string): never {
  console.error(`${msg}\nusage: migrate <user|room|cql|es> <up|down> [steps]`);
  process.exit(2);
}

if (!target || !['user', 'room', 'cql', 'es'].includes(target)) usage(`unknown target ${JSON.stringify(target)}`);
if (direction !== 'up' && direction !== 'down') usage(`unknown direction ${JSON.stringify(direction)}`);
const steps = stepsArg === undefined ? undefined : Number(stepsArg);
if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) usage(`steps must be a positive integer, got ${stepsArg}`);

async function main(): Promise<void> {
  const cfg = parseConfig({ ...postgresFields, ...cassandraFields, ...elasticFields }, process.env);
  if (target === 'user' || target === 'room') {
    const url = new URL(cfg.databaseUrl);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
    const adminUrl = new URL(cfg.databaseUrl);
    adminUrl.pathname = '/postgres';
    const admin = createPostgres({ url: adminUrl.toString() });
    try {
      if (await ensureDatabase(admin.client, database)) console.log(`created database ${database}`);
    } finally {
      await admin.close();
    }
    const pg = createPostgres({ url: cfg.databaseUrl });
    try {
      const r = await migratePostgres({ pool: pg.client, component: target, dir: `${root}migrations/${target}`, direction: direction as 'up' | 'down', ...(steps ? { steps } : {}) });
      report(target, r);
    } finally {
      await pg.close();
    }
  } else if (target === 'cql') {
    const c = createCassandra({ contactPoints: cfg.cassandraContactPoints, localDataCenter: cfg.cassandraLocalDc });
    try {
      const r = await migrateCassandra({ client: c.client, keyspace: cfg.cassandraKeyspace, dir: `${root}cql`, direction: direction as 'up' | 'down', ...(steps ? { steps } : {}) });
      report(`cql/${cfg.cassandraKeyspace}`, r);
    } finally {
      await c.close();
    }
  } else {
    const es = createElastic({ url: cfg.elasticsearchUrl });
    try {
      if (direction === 'up') {
        const r = await installElasticTemplates(es.client, cfg.elasticsearchIndexPrefix);
        console.log(`es: template ${r.names.template} installed; alias ${r.names.alias} ${r.createdIndex ? `created on ${r.names.firstIndex}` : 'already present'}`);
      } else {
        await removeElasticTemplates(es.client, cfg.elasticsearchIndexPrefix);
        console.log(`es: template and ${cfg.elasticsearchIndexPrefix}-messages-* indices removed`);
      }
    } finally {
      await es.close();
    }
  }
}

function report(name: string, r: { applied: Array<{ version: number; name: string }>; current: number }): void {
  const list = r.applied.map((a) => `${a.version}_${a.name}`).join(', ') || 'nothing to do';
  console.log(`${name}: ${direction} ${list}; now at version ${r.current}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `migrate ${target} ${direction} failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
