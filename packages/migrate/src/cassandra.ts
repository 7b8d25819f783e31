import type cassandra from 'cassandra-driver';
import { loadMigrations, splitStatements, type MigrationResult } from './files.js';

export interface CassandraMigrateOptions {
  /** A client connected without a keyspace: the keyspace may not exist yet. */
  client: cassandra.Client;
  keyspace: string;
  /** Replication factor for a newly created keyspace (SimpleStrategy). */
  replicationFactor?: number;
  dir: string;
  direction: 'up' | 'down';
  steps?: number;
}

const IDENT = /^[a-z][a-z0-9_]{0,47}$/;

/**
 * CQL has no transactions, so each statement in our .cql files is written to be safe to rerun
 * (IF NOT EXISTS / IF EXISTS); a migration that failed halfway is simply applied again.
 * `{{keyspace}}` in a file is replaced by the validated keyspace name.
 * Table `<keyspace>.schema_migrations`: (version int PRIMARY KEY, name text, applied_at timestamp).
 */
export async function migrateCassandra(opts: CassandraMigrateOptions): Promise<MigrationResult> {
  if (!IDENT.test(opts.keyspace)) throw new Error(`invalid keyspace name ${JSON.stringify(opts.keyspace)}`);
  const ks = opts.keyspace;
  const c = opts.client;
  const rf = opts.replicationFactor ?? 1;
  await c.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${rf}}`,
  );
  await c.execute(`CREATE TABLE IF NOT EXISTS ${ks}.schema_migrations (version int PRIMARY KEY, name text, applied_at timestamp)`);
  const files = await loadMigrations(opts.dir, 'cql');
  const done = await c.execute(`SELECT version FROM ${ks}.schema_migrations`);
  const doneSet = new Set(done.rows.map((r) => r.get('version') as number));
  const plan =
    opts.direction === 'up'
      ? files.filter((f) => !doneSet.has(f.version))
      : files.filter((f) => doneSet.has(f.version)).reverse().slice(0, opts.steps ?? 1);
  const applied: MigrationResult['applied'] = [];
  for (const f of plan) {
    const script = opts.direction === 'up' ? f.up : f.down;
    if (script === undefined) throw new Error(`migration ${f.version}_${f.name} has no down file`);
    for (const stmt of splitStatements(script.replaceAll('{{keyspace}}', ks))) {
      try {
        await c.execute(stmt);
      } catch (err) {
        throw new Error(`cql migration ${f.version}_${f.name} ${opts.direction} failed on: ${stmt}\n${(err as Error).message}`, { cause: err });
      }
    }
    if (opts.direction === 'up') {
      await c.execute(`INSERT INTO ${ks}.schema_migrations (version, name, applied_at) VALUES (?, ?, toTimestamp(now()))`, [f.version, f.name], { prepare: true });
    } else {
      await c.execute(`DELETE FROM ${ks}.schema_migrations WHERE version = ?`, [f.version], { prepare: true });
    }
    applied.push({ version: f.version, name: f.name });
  }
  const after = await c.execute(`SELECT version FROM ${ks}.schema_migrations`);
  const current = Math.max(0, ...after.rows.map((r) => r.get('version') as number));
  return { applied, current };
}
