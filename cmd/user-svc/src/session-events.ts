import { randomUUID } from 'node:crypto';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamClient, type JetStreamManager } from 'nats';
import { connectNats, type ClientHandle, type NatsClients } from '@parley/clients';
import { sleep, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';

/**
 * Session events, so edges can end the live sockets of a session that was revoked:
 *
 *   subject  <SESSION_EVENTS_PREFIX>.session.revoked               (prefix default parley.events)
 *   stream   SESSION_EVENTS_STREAM (default SESSION_EVENTS), subjects <prefix>.session.>,
 *            kept 24 h, duplicate window 2 min (msgID = event id)
 *   payload  {"v":1,"id":<uuid>,"type":"session.revoked","user_id":<uuid>,
 *             "token_sha256":<64 hex>,"occurred_at":<ISO 8601>}
 *
 * The token itself never leaves user-svc: its sha-256 names the session to whoever already holds
 * the token (an edge hashing the token a socket presented) and to nobody else.
 */
export interface SessionEvents {
  /** Queues the announcement; never throws and never blocks the revocation itself. */
  revoked(userId: string, tokenHash: Buffer): void;
}

export interface SessionRevokedEvent {
  v: 1;
  id: string;
  type: 'session.revoked';
  user_id: string;
  token_sha256: string;
  occurred_at: string;
}

export const sessionRevokedSubject = (prefix: string) => `${prefix}.session.revoked`;

const STREAM_MAX_AGE_MS = 24 * 3600_000;
const DUPLICATE_WINDOW_MS = 120_000;
const PUBLISH_TIMEOUT_MS = 5000;
const MAX_QUEUED = 10_000;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export interface JetStreamSessionEventsOptions {
  natsUrl: string;
  prefix: string;
  stream: string;
  log: Logger;
}

/**
 * Publishes session events to JetStream, one at a time in revocation order, and drops one from
 * the queue only after its PubAck. NATS being away never fails a logout (PostgreSQL is the truth
 * and validation refuses the token anyway); events wait in a bounded in-memory queue and are
 * retried with backoff. What this cannot survive: the process ending while NATS is away, or
 * more than MAX_QUEUED revocations during one outage. Both are logged as errors.
 */
export class JetStreamSessionEvents implements SessionEvents, Component {
  readonly name = 'session-events';
  private readonly queue: SessionRevokedEvent[] = [];
  private nats: ClientHandle<NatsClients> | undefined;
  private streamReady = false;
  private stopping = false;
  private readonly deadline = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: JetStreamSessionEventsOptions) {}

  async start(): Promise<void> {
    this.loop = this.run();
  }

  revoked(userId: string, tokenHash: Buffer): void {
    if (this.queue.length >= MAX_QUEUED) {
      const lost = this.queue.shift()!;
      this.o.log.error({ eventId: lost.id, userId: lost.user_id }, 'session event queue full: a revocation is not announced to live sockets');
    }
    this.queue.push({ v: 1, id: randomUUID(), type: 'session.revoked', user_id: userId, token_sha256: tokenHash.toString('hex'), occurred_at: new Date().toISOString() });
    this.wake?.();
  }

  /** Tries to announce what is queued until the deadline, then closes NATS. */
  async stop(signal: AbortSignal): Promise<void> {
    this.stopping = true;
    const onAbort = () => this.deadline.abort();
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    this.wake?.();
    // A publish or connect in progress is not abortable: stop waiting for it at the deadline.
    await Promise.race([this.loop, new Promise((resolve) => this.deadline.signal.addEventListener('abort', resolve, { once: true }))]);
    signal.removeEventListener('abort', onAbort);
    if (this.queue.length > 0) this.o.log.error({ count: this.queue.length }, 'stopped with revocations not announced to live sockets');
    await this.nats?.close().catch(() => undefined);
  }

  /** For readiness (non-critical): events are only delayed while NATS is away. */
  async health(): Promise<void> {
    if (!this.nats || !this.streamReady) throw new Error('nats: not connected');
    await this.nats.health();
  }

  private async run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.deadline.signal.aborted) {
      if (this.queue.length === 0 && (this.streamReady || this.stopping)) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        const js = await this.connect();
        const event = this.queue[0];
        if (event) {
          await js.publish(sessionRevokedSubject(this.o.prefix), JSON.stringify(event), { msgID: event.id, timeout: PUBLISH_TIMEOUT_MS });
          this.queue.shift();
        }
        backoff = MIN_BACKOFF_MS;
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message, queued: this.queue.length, retryInMs: backoff }, 'session events: publishing failed; will retry');
        await sleep(backoff, this.deadline.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async connect(): Promise<JetStreamClient> {
    this.nats ??= await connectNats({ url: this.o.natsUrl, name: 'user-svc-session-events' });
    if (!this.streamReady) {
      await ensureSessionEventStream(this.nats.client.jsm, this.o.stream, this.o.prefix);
      this.streamReady = true;
      this.o.log.info({ stream: this.o.stream }, 'session events: connected to NATS');
    }
    return this.nats.client.js;
  }
}

/** Creates the stream when missing; an existing one is left as its operator configured it. */
async function ensureSessionEventStream(jsm: JetStreamManager, name: string, prefix: string): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!/stream not found/i.test((err as Error).message)) throw err;
    await addStream(jsm, name, prefix);
  }
}

async function addStream(jsm: JetStreamManager, name: string, prefix: string): Promise<void> {
  try {
    await jsm.streams.add({
      name,
      subjects: [`${prefix}.session.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(STREAM_MAX_AGE_MS),
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      num_replicas: 1,
    });
  } catch (err) {
    // Another user-svc instance created it first.
    if (!/already in use/i.test((err as Error).message)) throw err;
  }
}
