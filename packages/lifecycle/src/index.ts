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

export interface RunnerOptions extends RunnerEvents {
  /** The deadline of every stop, `fail()`'s included (SHUTDOWN_TIMEOUT_MS). */
  stopTimeoutMs?: number;
}

/**
 * What a started component hands on to the ones started after it: `value` is there from the
 * end of its start to the beginning of its stop. Reading it earlier is a wiring bug and says
 * which component it was; `current` is for callbacks that may run at any time.
 */
export class Handle<T> {
  private state: { value: T } | undefined;
  constructor(readonly name: string) {}

  get value(): T {
    if (!this.state) throw new Error(`${this.name} is not running`);
    return this.state.value;
  }

  get current(): T | undefined {
    return this.state?.value;
  }

  /** Used by the Runner only. */
  set(value: T | undefined): void {
    this.state = value === undefined ? undefined : { value };
  }
}

export class Runner {
  private readonly components: Component[] = [];
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  private readonly events: RunnerEvents;
  private readonly stopTimeoutMs: number;

  constructor(events: RunnerOptions = {}) {
    this.events = events;
    this.stopTimeoutMs = events.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
  }

  add(component: Component): this {
    this.components.push(component);
    return this;
  }

  /**
   * Adds a component whose start produces something later components use (a connection, a
   * server): they read it from the returned handle in their own start, so products pass
   * forward without mutable wiring.
   */
  provide<T>(name: string, start: (signal: AbortSignal) => Promise<T> | T, stop: (value: T, signal: AbortSignal) => Promise<void> | void): Handle<T> {
    const handle = new Handle<T>(name);
    this.add({
      name,
      start: async (signal) => handle.set(await start(signal)),
      stop: async (signal) => {
        const value = handle.current;
        handle.set(undefined);
        if (value !== undefined) await stop(value, signal);
      },
    });
    return handle;
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
    void this.stop(this.stopTimeoutMs);
  }

  /**
   * Stops started components in reverse order within one shared deadline. Idempotent: a second
   * SIGTERM while stopping returns the same promise.
   */
  stop(deadlineMs = this.stopTimeoutMs): Promise<void> {
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

  /** True from the moment a stop began: readiness reports "unavailable" from then on. */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** Resolves after `stop()` completed, whoever triggered it. */
  wait(): Promise<void> {
    return this.stopped;
  }
}

const LATE_STOP_GRACE_MS = 500;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

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

/**
 * A dependency a process needs to do its work, as `/readyz` reports it. A failing critical
 * check makes the process unready (503); a non-critical one is reported and tolerated (Redis:
 * the service degrades instead).
 */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
  critical?: boolean;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

/** Runs every check at once, each bounded by `timeoutMs`: a hung dependency is a failing one. */
export async function checkReadiness(checks: readonly HealthCheck[], timeoutMs = 3000): Promise<Readiness> {
  const results: Record<string, string> = {};
  let ready = true;
  await Promise.all(
    checks.map(async (h) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([h.check(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
        results[h.name] = 'ok';
      } catch (err) {
        results[h.name] = `failing: ${(err as Error).message}`;
        if (h.critical !== false) ready = false;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready, checks: results };
}
export { Backoff, type BackoffOptions } from './backoff.js';
export { periodic, type PeriodicOptions } from './periodic.js';
