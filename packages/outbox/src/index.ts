import type pg from 'pg';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { Backoff, sleep, type Component } from '@parley/lifecycle';
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
}

const PUBLISH_TIMEOUT_MS = 5000;
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

  constructor(private readonly o: OutboxRelayOptions) {
    if (!TABLE.test(o.table)) throw new Error(`outbox: invalid table name ${JSON.stringify(o.table)}`);
    this.name = o.name;
  }

  async start(): Promise<void> {
    this.loop = this.run();
  }

  async stop(signal: AbortSignal): Promise<void> {
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
