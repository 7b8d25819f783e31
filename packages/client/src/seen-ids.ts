import type { Message } from '@parley/contracts';
import { isNewerKey, stateKey } from './message-state.js';

/** How many ids are remembered: a resume repeats at most a few seconds of a room (docs/realtime.md). */
export const DEFAULT_SEEN_LIMIT = 5000;

/** What a copy of a message is to what was delivered before. */
export type Offer = 'new' | 'newer' | 'stale';

/**
 * The messages already handed to the application, and the state each was handed in, so the
 * overlap a resume sends again (up to 2 s before `last_id`), a message arriving both live and in
 * history, and a `message_updated` repeated by a resume are delivered once, while a copy in a
 * newer state (an edit made while away shows in the resume's history) is delivered as a change.
 * The oldest entries are forgotten first; a repeat can only be that old if a resume replays more
 * than `limit` messages, which the edge's page size rules out.
 */
export class SeenIds {
  /** id → stateKey of the copy delivered last ('' when only the id is known). */
  private readonly ids = new Map<string, string>();

  constructor(private readonly limit = DEFAULT_SEEN_LIMIT) {}

  /** True the first time an id is offered; false for a repeat. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.remember(id, '');
    return true;
  }

  /** A copy of a message from history or the live stream: new, newer than the one delivered, or stale. */
  offer(m: Message): Offer {
    const known = this.ids.get(m.id);
    if (known === undefined) {
      this.remember(m.id, stateKey(m));
      return 'new';
    }
    if (!this.isNewer(known, m)) return 'stale';
    this.ids.set(m.id, stateKey(m));
    return 'newer';
  }

  /**
   * A `message_updated`: false when a copy at least as new was delivered. An id never delivered
   * stays unknown (its `message` frame may still come, and must not be dropped as a repeat).
   */
  update(m: Message): boolean {
    const known = this.ids.get(m.id);
    if (known === undefined) return true;
    if (!this.isNewer(known, m)) return false;
    this.ids.set(m.id, stateKey(m));
    return true;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Forgets everything (the application restarts its view). */
  clear(): void {
    this.ids.clear();
  }

  get size(): number {
    return this.ids.size;
  }

  private isNewer(knownKey: string, m: Message): boolean {
    return knownKey === '' || isNewerKey(knownKey, stateKey(m));
  }

  private remember(id: string, key: string): void {
    this.ids.set(id, key);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.keys().next().value as string);
  }
}
