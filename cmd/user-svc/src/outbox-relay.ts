import type pg from 'pg';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager } from 'nats';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { sleep, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { sessionStreamSubjects } from './session-events.js';

export interface SessionOutboxRelayOptions {
  pool: pg.Pool;
  natsUrl: string;
  prefix: string;
  stream: string;
  pollMs: number;
  batch: number;
  maxBackoffMs: number;
  log: Logger;
}

const PUBLISH_TIMEOUT_MS = 5000;
const STREAM_MAX_AGE_MS = 24 * 3600_000;
const DUPLICATE_WINDOW_MS = 120_000;

/**
 * Moves session_outbox rows to JetStream. Invariants (the same as room-svc's relay):
 * - a row is marked published only after JetStream's PubAck for it, in the transaction that
 *   locked it, so a crash between ack and mark republishes it; the msgID (= event id) makes
 *   JetStream drop that repeat inside the stream's duplicate window: each id is stored once;
 * - one relay publishes at a time per schema (transaction-scoped advisory lock), and rows go
 *   out in seq order stopping at the first failure, so revocations keep their order;
 * - NATS being down never fails a logout (PostgreSQL is the truth and validation already
 *   refuses the token): connect and publish retry with backoff, rows wait in the table.
 */
export class SessionOutboxRelay implements Component {
  readonly name = 'session-outbox-relay';
  private nats: ClientHandle<NatsClients> | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private connected = false;

  constructor(private readonly o: SessionOutboxRelayOptions) {}

  async start(): Promise<void> {
    this.loop = this.run();
  }

  /** What is still pending stays in the table for the next relay; nothing is lost by stopping. */
  async stop(signal: AbortSignal): Promise<void> {
    this.stopping.abort();
    const raced = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([this.loop, raced]);
    await this.nats?.close().catch(() => undefined);
  }

  /** For readiness (non-critical): events are only delayed while NATS is away. */
  async health(): Promise<void> {
    if (!this.nats || !this.connected) throw new Error('nats: not connected');
    await this.nats.health();
  }

  private async run(): Promise<void> {
    let backoff = this.o.pollMs;
    while (!this.stopping.signal.aborted) {
      try {
        const clients = await this.connect();
        const sent = await this.publishBatch(clients);
        backoff = this.o.pollMs;
        if (sent === this.o.batch) continue;
        await sleep(this.o.pollMs, this.stopping.signal);
      } catch (err) {
        if (this.stopping.signal.aborted) break;
        this.o.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'session outbox relay: publishing failed; will retry');
        await sleep(backoff, this.stopping.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs);
      }
    }
  }

  private async connect(): Promise<NatsClients> {
    if (this.nats && this.connected) return this.nats.client;
    this.nats ??= await connectNats({
      url: this.o.natsUrl,
      name: 'user-svc-session-outbox',
      onStatus: (type) => {
        if (type === 'disconnect') this.connected = false;
        if (type === 'reconnect') this.connected = true;
      },
    });
    await ensureSessionEventStream(this.nats.client.jsm, this.o.stream, this.o.prefix);
    this.connected = true;
    this.o.log.info({ stream: this.o.stream }, 'session outbox relay: connected to NATS');
    return this.nats.client;
  }

  /** One transaction: lock pending rows, publish each, mark the acked ones. Returns how many were sent. */
  private async publishBatch({ js }: NatsClients): Promise<number> {
    const c = await this.o.pool.connect();
    try {
      await c.query('BEGIN');
      const lock = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.session_outbox_relay')) AS ok");
      if (!lock.rows[0]?.ok) {
        await c.query('ROLLBACK');
        return 0;
      }
      const rs = await c.query<{ id: string; subject: string; payload: unknown }>(
        'SELECT id, subject, payload FROM session_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
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
      if (acked.length > 0) await c.query('UPDATE session_outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [acked]);
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

/** Creates the stream when missing; an existing one is left as its operator configured it. */
async function ensureSessionEventStream(jsm: JetStreamManager, name: string, prefix: string): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.streams.add({
        name,
        subjects: sessionStreamSubjects(prefix),
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(STREAM_MAX_AGE_MS),
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        num_replicas: 1,
      });
    } catch (addErr) {
      // Another user-svc instance created it first.
      if (!/already in use/i.test((addErr as Error).message)) throw addErr;
    }
  }
}
