import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from 'nats';
import { sleep, type Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';

/**
 * Follows user-svc's session events (see docs/identity.md) so a logout ends the session's live
 * sockets, which were admitted before it and would otherwise stay open:
 *
 *   stream   SESSION_EVENTS_STREAM, subject <SESSION_EVENTS_PREFIX>.session.revoked
 *   payload  {"v":1,"id","type":"session.revoked","user_id","token_sha256":<64 hex>,"occurred_at"}
 *
 * An ordered consumer starts at this edge's start time (every socket here is younger) and, when
 * it has to be recreated, at the sequence after the last event seen, so an event stored while
 * this edge was cut off from NATS still arrives. user-svc creates the stream; until it exists
 * this retries with backoff (nothing can have been revoked through it yet). Handling an event
 * twice is harmless: closing a closed socket does nothing.
 */
export interface RevocationHandler {
  (tokenHash: string, userId: string): void;
}

export interface SessionRevocationsOptions {
  js: JetStreamClient;
  stream: string;
  prefix: string;
  log: Logger;
  onRevoked: RevocationHandler;
}

const TOKEN_HASH = /^[0-9a-f]{64}$/;
const MAX_BACKOFF_MS = 5000;
/** Events stamped by a user-svc whose clock runs a little behind ours still count. */
const CLOCK_SKEW_MS = 5000;

export class SessionRevocations implements Component {
  readonly name = 'session-revocations';
  private readonly stopping = new AbortController();
  private iter: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private lastSeq = 0;
  private readonly since = new Date(Date.now() - CLOCK_SKEW_MS).toISOString();

  constructor(private readonly o: SessionRevocationsOptions) {}

  /** Does not wait for the stream: the edge serves while user-svc is still starting. */
  async start(): Promise<void> {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.iter?.close().catch(() => undefined);
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    let failing = false;
    while (!this.stopping.signal.aborted) {
      try {
        const start = this.lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: this.since };
        const consumer = await this.o.js.consumers.get(this.o.stream, { filterSubjects: `${this.o.prefix}.session.revoked`, ...start });
        this.iter = await consumer.consume({ max_messages: 256 });
        if (failing) this.o.log.info({ stream: this.o.stream }, 'following session revocations again');
        failing = false;
        backoff = 100;
        for await (const m of this.iter) {
          this.lastSeq = m.seq;
          this.handle(m.data);
        }
        if (!this.stopping.signal.aborted) throw new Error('session event consumer ended');
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        // One warning per outage: the stream may simply not exist until user-svc has started.
        if (!failing) this.o.log.warn({ err: (err as Error).message, stream: this.o.stream }, 'session revocations unavailable: live sockets outlive logouts until this recovers');
        failing = true;
        await sleep(backoff, this.stopping.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private handle(data: Uint8Array): void {
    let event: { type?: unknown; token_sha256?: unknown; user_id?: unknown };
    try {
      event = JSON.parse(new TextDecoder().decode(data)) as typeof event;
    } catch {
      return this.o.log.warn('dropped an unreadable session event');
    }
    if (event.type !== 'session.revoked' || typeof event.token_sha256 !== 'string' || !TOKEN_HASH.test(event.token_sha256)) {
      return this.o.log.warn({ type: String(event.type) }, 'dropped a malformed session event');
    }
    this.o.onRevoked(event.token_sha256, typeof event.user_id === 'string' ? event.user_id : '');
  }
}
