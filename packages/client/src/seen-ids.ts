/** How many ids are remembered: a resume repeats at most a few seconds of a room (docs/realtime.md). */
export const DEFAULT_SEEN_LIMIT = 5000;

/**
 * The ids already handed to the application, so the overlap a resume sends again (up to 2 s
 * before `last_id`) and a message arriving both live and in history are delivered once. The
 * oldest entries are forgotten first; a repeat can only be that old if a resume replays more than
 * `limit` messages, which the edge's page size rules out.
 */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly limit = DEFAULT_SEEN_LIMIT) {}

  /** True the first time an id is offered; false for a repeat. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value as string);
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
}
