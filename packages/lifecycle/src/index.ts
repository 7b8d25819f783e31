/**
 * Everything long running (servers, consumers, relays) implements `Component`; one `Runner`
 * starts them in order and stops them in reverse, so a consumer stops before the producer
 * it writes to and the HTTP server closes before the pools it uses.
 */
export interface Component {
  readonly name: string;
  /** Resolves once the component is ready. `signal` aborts a start that is taking too long. */
  start(signal: AbortSignal): Promise<void>;
  /** Finish or hand back in-flight work; must respect `signal` (aborted at the deadline). */
  stop(signal: AbortSignal): Promise<void>;
}

export interface RunnerEvents {
  onStarted?(name: string, ms: number): void;
  onStopped?(name: string, ms: number): void;
  onStopError?(name: string, err: unknown): void;
  /** A component that fails after start (a consumer crash) asks the runner to stop all. */
  onFatal?(name: string, err: unknown): void;
}

export class Runner {
  private readonly components: Component[] = [];
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  private readonly events: RunnerEvents;

  constructor(events: RunnerEvents = {}) {
    this.events = events;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
  }

  add(component: Component): this {
    this.components.push(component);
    return this;
  }

  /**
   * Starts components one by one. If one fails, the ones already started are stopped in
   * reverse order and the error is rethrown: a half-started service never stays up.
   */
  async start(startTimeoutMs = 60_000): Promise<void> {
    for (const c of this.components) {
      const t0 = Date.now();
      const signal = AbortSignal.timeout(startTimeoutMs);
      try {
        await c.start(signal);
      } catch (err) {
        await this.stop(Math.max(1000, startTimeoutMs / 2));
        throw new Error(`component ${c.name} failed to start: ${(err as Error).message}`, { cause: err });
      }
      this.started.push(c);
      this.events.onStarted?.(c.name, Date.now() - t0);
    }
  }

  /** A component reports an unrecoverable failure after start; the whole runner stops. */
  fail(name: string, err: unknown): void {
    this.events.onFatal?.(name, err);
    void this.stop();
  }

  /**
   * Stops started components in reverse order within one shared deadline. Idempotent: a second
   * SIGTERM while stopping returns the same promise.
   */
  stop(deadlineMs = 15_000): Promise<void> {
    if (this.stopping) return this.stopping;
    const signal = AbortSignal.timeout(deadlineMs);
    this.stopping = (async () => {
      while (this.started.length > 0) {
        const c = this.started.pop()!;
        const t0 = Date.now();
        // Past the deadline the rest still get a short chance to close sockets and pools.
        const own = signal.aborted ? AbortSignal.timeout(LATE_STOP_GRACE_MS) : signal;
        try {
          await raceAbort(c.stop(own), own, c.name);
          this.events.onStopped?.(c.name, Date.now() - t0);
        } catch (err) {
          this.events.onStopError?.(c.name, err);
        }
      }
      this.resolveStopped();
    })();
    return this.stopping;
  }

  /** Resolves after `stop()` completed, whoever triggered it. */
  wait(): Promise<void> {
    return this.stopped;
  }
}

const LATE_STOP_GRACE_MS = 500;

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`${name}: stop deadline exceeded`));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Adapts a pair of functions into a Component. */
export function component(
  name: string,
  start: (signal: AbortSignal) => Promise<void> | void,
  stop: (signal: AbortSignal) => Promise<void> | void,
): Component {
  return { name, start: async (s) => start(s), stop: async (s) => stop(s) };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
