import type { Component } from './index.js';
import { sleep } from './index.js';

export interface PeriodicOptions {
  name: string;
  /** Pause between the end of one run and the start of the next; the first run comes after one pause. */
  everyMs: number;
  run(signal: AbortSignal): Promise<void>;
  /** A failed run: reported here, and the next one comes as planned. */
  onError(err: unknown): void;
}

/**
 * Background housekeeping as a Component (pruning old rows, say): one run at a time, never
 * overlapping; stop aborts the pause or the run in progress and waits for it to end.
 */
export function periodic(o: PeriodicOptions): Component {
  let stopping = new AbortController();
  let loop: Promise<void> | undefined;
  const runLoop = async (signal: AbortSignal) => {
    while (!signal.aborted) {
      try {
        await sleep(o.everyMs, signal);
      } catch {
        return;
      }
      try {
        await o.run(signal);
      } catch (err) {
        if (!signal.aborted) o.onError(err);
      }
    }
  };
  return {
    name: o.name,
    start: async () => {
      stopping = new AbortController();
      loop = runLoop(stopping.signal);
    },
    stop: async () => {
      stopping.abort();
      await loop;
    },
  };
}
