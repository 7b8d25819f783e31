import pg from 'pg';
import type { ClientHandle } from './health.js';
import { withTimeout, DEFAULT_HEALTH_TIMEOUT_MS } from './health.js';

export interface PostgresOptions {
  url: string;
  /** Sets search_path on every connection: how tests get a private schema per run. */
  schema?: string;
  max?: number;
  applicationName?: string;
  /** Pool errors (a server restart kills idle connections) are reported, never thrown. */
  onError?: (err: Error) => void;
}

export function createPostgres(opts: PostgresOptions): ClientHandle<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'parley',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    ...(opts.schema ? { options: `-c search_path=${quoteIdent(opts.schema)}` } : {}),
  });
  pool.on('error', (err) => opts.onError?.(err));
  return {
    name: 'postgres',
    client: pool,
    health: () =>
      withTimeout('postgres', DEFAULT_HEALTH_TIMEOUT_MS, async () => {
        await pool.query('SELECT 1');
      }),
    close: () => pool.end(),
  };
}

/** Identifier quoting for the few places DDL needs a name (schemas); values always go as parameters. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
