import type { JetStreamClient } from 'nats';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { StreamFollower } from './stream-follower.js';

/**
 * Follows user-svc's session events (see docs/identity.md) so a logout ends the session's live
 * sockets, which were admitted before it and would otherwise stay open:
 *
 *   stream   SESSION_EVENTS_STREAM, subject <SESSION_EVENTS_PREFIX>.session.revoked
 *   payload  {"v":1,"id","type":"session.revoked","user_id","token_sha256":<64 hex>,"occurred_at"}
 *
 * Read with a StreamFollower, from this edge's start on. Handling an event twice is harmless:
 * closing a closed socket does nothing.
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

export class SessionRevocations implements Component {
  readonly name = 'session-revocations';
  private readonly follower: StreamFollower;

  constructor(private readonly o: SessionRevocationsOptions) {
    this.follower = new StreamFollower({
      name: 'session revocations',
      js: o.js,
      stream: o.stream,
      filterSubjects: `${o.prefix}.session.revoked`,
      log: o.log,
      degraded: 'live sockets outlive logouts',
      onEvent: (data) => this.handle(data),
    });
  }

  start(): Promise<void> {
    return this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
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
