import type pg from 'pg';
import { RetentionPolicy, StorageType, nanos, type JetStreamManager } from 'nats';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { sleep, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { eventStreamSubjects } from './events.js';

export interface OutboxRelayOptions {
  pool: pg.Pool;
  natsUrl: string;
  prefix: string;
  stream: string;
  duplicateWindowMs: number;
  pollMs: number;
  batch: number;
  maxBackoffMs: number;
  log: Logger;
}

const PUBLISH_TIMEOUT_MS = 5000;

/**
 * Moves room_outbox rows to JetStream. Invariants:
 * - a row is marked published only after JetStream's PubAck for it, in the transaction that
 *   locked it, so a crash between ack and mark republishes it; the msgID (= event id) makes
 *   JetStream drop that repeat inside the stream's duplicate window: each id is stored once;
 * - one relay publishes at a time per schema (transaction-scoped advisory lock), and rows go
 *   out in seq order stopping at the first failure, so a room's events keep their order;
 * - NATS being down never stops the service: connect and publish retry with backoff.
 */
export class OutboxRelay implements Component {
  readonly name = 'outbox-relay';
  private nats: ClientHandle<NatsClients> | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private connected = false;

  constructor(private readonly o: OutboxRelayOptions) {}

  async start(): Promise<void> {
    this.loop = this.run();
  }

  async stop(signal: AbortSignal): Promise<void> {
    this.stopping.abort();
    const raced = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([this.loop, raced]);
    await this.nats?.close().catch(() => undefined);
  }

  /** For readiness: NATS is reachable (events may lag without it, nothing is lost). */
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
        this.o.log.warn({ err: (err as Error).message, retryInMs: backoff }, 'outbox relay: publishing failed; will retry');
        await sleep(backoff, this.stopping.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, this.o.maxBackoffMs);
      }
    }
  }

  private async connect(): Promise<NatsClients> {
    if (this.nats && this.connected) return this.nats.client;
    this.nats ??= await connectNats({
      url: this.o.natsUrl,
      name: 'room-svc-outbox',
      onStatus: (type) => {
        if (type === 'disconnect') this.connected = false;
        if (type === 'reconnect') this.connected = true;
      },
    });
    await ensureStream(this.nats.client.jsm, this.o.stream, eventStreamSubjects(this.o.prefix), this.o.duplicateWindowMs);
    this.connected = true;
    this.o.log.info({ stream: this.o.stream }, 'outbox relay: connected to NATS');
    return this.nats.client;
  }

  /** One transaction: lock pending rows, publish each, mark the acked ones. Returns how many were sent. */
  private async publishBatch({ js }: NatsClients): Promise<number> {
    const c = await this.o.pool.connect();
    try {
      await c.query('BEGIN');
      const lock = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.room_outbox_relay')) AS ok");
      if (!lock.rows[0]?.ok) {
        await c.query('ROLLBACK');
        return 0;
      }
      const rs = await c.query<{ id: string; subject: string; payload: unknown }>(
        'SELECT id, subject, payload FROM room_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
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
      if (acked.length > 0) await c.query('UPDATE room_outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [acked]);
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

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], duplicateWindowMs: number): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await jsm.streams.add({ name, subjects, retention: RetentionPolicy.Limits, storage: StorageType.File, duplicate_window: nanos(duplicateWindowMs) });
  }
}
