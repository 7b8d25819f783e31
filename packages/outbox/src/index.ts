import type pg from 'pg';
import { field, types } from '@parley/config';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { Backoff, periodic, sleep, type Component } from '@parley/lifecycle';
import { ensureStream, eventStreamConfig } from '@parley/nats';
import type { Logger } from '@parley/log';

/**
 * The transactional outbox relay shared by the services that announce changes (room-svc's
 * room lifecycle, user-svc's session revocations). Each owns a table of this shape:
 *
 *   <table>  seq bigserial (publish order) | id uuid (event id = JetStream msgID)
 *            | subject text | payload jsonb | created_at | published_at (NULL until PubAck)
 *
 * and writes its rows in the same PostgreSQL transaction as the change they describe.
 */
export interface OutboxStream {
  name: string;
  subjects: string[];
  duplicateWindowMs: number;
  /** Age limit of the stream when the relay creates it (0 = unlimited). */
  maxAgeMs?: number;
}

export interface OutboxRelayOptions {
  /** Component name, also the NATS connection name and the advisory lock key. */
  name: string;
  /** Table name; validated, since it is spliced into SQL. */
  table: string;
  pool: pg.Pool;
  natsUrl: string;
  stream: OutboxStream;
  pollMs: number;
  batch: number;
  maxBackoffMs: number;
  log: Logger;
  /**
   * Retention: published rows older than `keepPublishedMs` are deleted every `pruneEveryMs`.
   * Unpublished rows are never deleted, whatever their age. A published row is only history
   * (what was announced, for an operator): JetStream holds the event, and a republish of a
   * pruned row cannot happen since only unpublished rows are sent.
   */
  retention?: { keepPublishedMs: number; pruneEveryMs: number };
}

/** The retention settings of a service's outbox, under its env prefix (USER_, ROOM_). */
export function outboxRetentionFields(envPrefix: string) {
  return {
    outboxKeepPublishedMs: field({ env: `${envPrefix}_OUTBOX_KEEP_PUBLISHED_MS`, schema: types.int(0, 90 * 86_400_000), default: String(86_400_000), doc: 'published outbox rows older than this are deleted (unpublished ones never are)' }),
    outboxPruneEveryMs: field({ env: `${envPrefix}_OUTBOX_PRUNE_EVERY_MS`, schema: types.int(100, 86_400_000), default: '600000', doc: 'how often published outbox rows are pruned' }),
  };
}

const PUBLISH_TIMEOUT_MS = 5000;
/** Rows per DELETE: short transactions, so pruning never holds locks the relay waits for. */
const PRUNE_BATCH = 1000;
const TABLE = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Moves outbox rows to JetStream. Invariants:
 * - a row is marked published only after JetStream's PubAck for it, in the transaction that
 *   locked it, so a crash between ack and mark republishes it; the msgID (= event id) makes
 *   JetStream drop that repeat inside the stream's duplicate window: each id is stored once;
 * - one relay publishes at a time per schema and table (transaction-scoped advisory lock), and
 *   rows go out in seq order stopping at the first failure, so events keep their order;
 * - NATS being down never stops the service: connect and publish retry with backoff, rows wait
 *   in the table; what is pending at stop stays there for the next relay.
 */
export class OutboxRelay implements Component {
  readonly name: string;
  private nats: ClientHandle<NatsClients> | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private connected = false;
  private readonly pruner: Component | undefined;

  constructor(private readonly o: OutboxRelayOptions) {
    if (!TABLE.test(o.table)) throw new Error(`outbox: invalid table name ${JSON.stringify(o.table)}`);
    this.name = o.name;
    const r = o.retention;
    if (r) {
      this.pruner = periodic({
        name: `${o.name}-pruner`,
        everyMs: r.pruneEveryMs,
        run: async () => {
          const pruned = await this.prunePublished(r.keepPublishedMs);
          if (pruned > 0) o.log.info({ table: o.table, pruned }, `${o.name}: pruned published rows`);
        },
        onError: (err) => o.log.warn({ err, table: o.table }, `${o.name}: pruning failed; will retry`),
      });
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    this.loop = this.run();
    await this.pruner?.start(signal);
  }

  /** Deletes published rows older than `keepMs`, in batches; returns how many went. */
  async prunePublished(keepMs: number): Promise<number> {
    const t = this.o.table;
    let total = 0;
    for (;;) {
      const rs = await this.o.pool.query(
        `DELETE FROM ${t} WHERE seq IN (SELECT seq FROM ${t} WHERE published_at < now() - $1 * interval '1 millisecond' ORDER BY seq LIMIT $2)`,
        [keepMs, PRUNE_BATCH],
      );
      total += rs.rowCount ?? 0;
      if ((rs.rowCount ?? 0) < PRUNE_BATCH) return total;
    }
  }

  async stop(signal: AbortSignal): Promise<void> {
    await this.pruner?.stop(signal);
    this.stopping.abort();
    const raced = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([this.loop, raced]);
    await this.nats?.close().catch(() => undefined);
  }

  /** For readiness: NATS is reachable (events only lag without it; nothing is lost). */
  async health(): Promise<void> {
    if (!this.nats || !this.connected) throw new Error('nats: not connected');
    await this.nats.health();
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: this.o.pollMs, maxMs: this.o.maxBackoffMs });
    while (!this.stopping.signal.aborted) {
      try {
        const clients = await this.connect();
        const sent = await this.publishBatch(clients);
        backoff.reset();
        if (sent === this.o.batch) continue;
        await sleep(this.o.pollMs, this.stopping.signal);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        const retryInMs = backoff.nextDelayMs();
        this.o.log.warn({ err, retryInMs }, `${this.name}: publishing failed; will retry`);
        await sleep(retryInMs, this.stopping.signal).catch(() => undefined);
      }
    }
  }

  private async connect(): Promise<NatsClients> {
    if (this.nats && this.connected) return this.nats.client;
    this.nats ??= await connectNats({
      url: this.o.natsUrl,
      name: this.o.name,
      onStatus: (type) => {
        if (type === 'disconnect') this.connected = false;
        if (type === 'reconnect') this.connected = true;
      },
    });
    await ensureStream(this.nats.client.jsm, eventStreamConfig(this.o.stream));
    this.connected = true;
    this.o.log.info({ stream: this.o.stream.name }, `${this.name}: connected to NATS`);
    return this.nats.client;
  }

  /** One transaction: lock pending rows, publish each, mark the acked ones. Returns how many were sent. */
  private async publishBatch({ js }: NatsClients): Promise<number> {
    const t = this.o.table;
    const c = await this.o.pool.connect();
    try {
      await c.query('BEGIN');
      const lock = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || $1)) AS ok', [`.${t}_relay`]);
      if (!lock.rows[0]?.ok) {
        await c.query('ROLLBACK');
        return 0;
      }
      const rs = await c.query<{ id: string; subject: string; payload: unknown }>(
        `SELECT id, subject, payload FROM ${t} WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.o.batch],
      );
      const acked: string[] = [];
      let failure: unknown;
      for (const row of rs.rows) {
        try {
          await js.publish(row.subject, JSON.stringify(row.payload), { msgID: row.id, timeout: PUBLISH_TIMEOUT_MS });
          acked.push(row.id);
        } catch (err) {
          failure = err;
          break;
        }
      }
      if (acked.length > 0) await c.query(`UPDATE ${t} SET published_at = now() WHERE id = ANY($1::uuid[])`, [acked]);
      await c.query('COMMIT');
      if (failure) throw failure;
      return acked.length;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}
