import type { JetStreamClient } from 'nats';
import { parseEvent, sessionRevokedEventSchema } from '@parley/contracts';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { sessionRevokedSubject, StreamFollower } from '@parley/nats';

/**
 * Follows user-svc's session events (see docs/identity.md) so a logout ends the session's live
 * sockets, which were admitted before it and would otherwise stay open:
 *
 *   stream   SESSION_EVENTS_STREAM, subject <SESSION_EVENTS_PREFIX>.session.revoked
 *   payload  SessionRevokedEvent of @parley/contracts
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

export class SessionRevocations implements Component {
  readonly name = 'session-revocations';
  private readonly follower: StreamFollower;

  constructor(private readonly o: SessionRevocationsOptions) {
    this.follower = new StreamFollower({
      name: 'session revocations',
      js: o.js,
      stream: o.stream,
      filterSubjects: sessionRevokedSubject(o.prefix),
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
    const event = parseEvent(sessionRevokedEventSchema, data);
    if (!event) return this.o.log.warn('dropped an unreadable or malformed session event');
    this.o.onRevoked(event.token_sha256, event.user_id);
  }
}
