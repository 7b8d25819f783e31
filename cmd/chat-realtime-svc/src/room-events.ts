import type { JetStreamClient } from 'nats';
import { LRUCache } from 'lru-cache';
import { parseEvent, roomEventSchema, type RoomEvent } from '@parley/contracts';
import type { Component } from '@parley/lifecycle';
import type { Logger } from '@parley/log';
import { roomEventSubjects, StreamFollower } from '@parley/nats';

/**
 * Follows room-svc's lifecycle events (shapes: @parley/contracts events.ts) so a deletion or a
 * removal ends the live sockets it concerns. Stream ROOM_EVENTS_STREAM.
 *
 * Read with a StreamFollower, from this edge's start on, so an event stored while the edge was
 * cut off from NATS still arrives. room-svc's outbox may publish an event again after the
 * stream's duplicate window; ids seen recently are skipped.
 */
export type { RoomEvent } from '@parley/contracts';

export interface RoomEventsOptions {
  js: JetStreamClient;
  stream: string;
  prefix: string;
  log: Logger;
  onEvent: (event: RoomEvent) => void;
}

const SEEN_IDS = 10_000;

export class RoomEvents implements Component {
  readonly name = 'room-events';
  private readonly follower: StreamFollower;
  private readonly seen = new BoundedSet(SEEN_IDS);

  constructor(private readonly o: RoomEventsOptions) {
    this.follower = new StreamFollower({
      name: 'room events',
      js: o.js,
      stream: o.stream,
      filterSubjects: roomEventSubjects(o.prefix).filter,
      log: o.log,
      degraded: 'deleted rooms and removed members keep their live sockets',
      onEvent: (data) => this.handle(data),
    });
  }

  start(): Promise<void> {
    return this.follower.start();
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  /** Whether events are being received now (not failing, not stopped). */
  get following(): boolean {
    return this.follower.following;
  }

  private handle(data: Uint8Array): void {
    const event = parseEvent(roomEventSchema, data);
    if (!event) return this.o.log.warn('dropped an unreadable or malformed room event');
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    this.o.onEvent(event);
  }
}

/** A set that forgets its least recently used entries beyond `max` (the project's one bounded cache). */
export class BoundedSet {
  private readonly items: LRUCache<string, true>;

  constructor(max: number) {
    this.items = new LRUCache<string, true>({ max });
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  add(key: string): void {
    this.items.set(key, true);
  }

  delete(key: string): void {
    this.items.delete(key);
  }
}
