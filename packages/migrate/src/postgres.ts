import type pg from 'pg';
import { loadMigrations, type MigrationResult } from './files.js';

export interface PostgresMigrateOptions {
  pool: pg.Pool;
  /** Which service's migrations ("user", "room"): each keeps its own version line. */
  component: string;
  dir: string;
  direction: 'up' | 'down';
  /** For down: how many to revert (default 1). For up: all pending. */
  steps?: number;
}

/**
 * Applies each migration in its own transaction together with its bookkeeping row, under an
 * advisory lock so two services starting at once do not both migrate.
 * Table `parley_migrations`: (component text, version int, name text, applied_at timestamptz).
 */
export async function migratePostgres(opts: PostgresMigrateOptions): Promise<MigrationResult> {
  const files = await loadMigrations(opts.dir, 'sql');
  const client = await opts.pool.connect();
  const applied: MigrationResult['applied'] = [];
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS parley_migrations (
         component text NOT NULL, version int NOT NULL, name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`,
    );
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`parley_migrations:${opts.component}`]);
    try {
      const done = await client.query<{ version: number }>(
        'SELECT version FROM parley_migrations WHERE component = $1 ORDER BY version',
        [opts.component],
      );
      const doneSet = new Set(done.rows.map((r) => r.version));
      const plan =
        opts.direction === 'up'
          ? files.filter((f) => !doneSet.has(f.version))
          : files.filter((f) => doneSet.has(f.version)).reverse().slice(0, opts.steps ?? 1);
      for (const f of plan) {
        const sql = opts.direction === 'up' ? f.up : f.down;
        if (sql === undefined) throw new Error(`migration ${f.version}_${f.name} has no down file`);
        await client.query('BEGIN');
        try {
          await client.query(sql);
          if (opts.direction === 'up') {
            await client.query('INSERT INTO parley_migrations (component, version, name) VALUES ($1, $2, $3)', [opts.component, f.version, f.name]);
          } else {
            await client.query('DELETE FROM parley_migrations WHERE component = $1 AND version = $2', [opts.component, f.version]);
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${opts.component}/${f.version}_${f.name} ${opts.direction} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push({ version: f.version, name: f.name });
      }
      const cur = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM parley_migrations WHERE component = $1', [opts.component]);
      return { applied, current: cur.rows[0]?.v ?? 0 };
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`parley_migrations:${opts.component}`]);
    }
  } finally {
    client.release();
  }
}

/** Creates the database named in `url` if it is missing (CREATE DATABASE cannot run in a transaction). */
export async function ensureDatabase(adminPool: pg.Pool, database: string): Promise<boolean> {
  const rs = await adminPool.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (rs.rowCount) return false;
  await adminPool.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  return true;
}
