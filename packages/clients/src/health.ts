/**
 * What every client factory returns: the driver's own client (nothing hidden), a health check
 * that does a real round trip, and a close that releases sockets.
 */
export interface ClientHandle<C> {
  readonly name: string;
  readonly client: C;
  /** Throws (with the driver's error as cause) unless the server answered a real request. */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** Runs `fn` with a timeout so a health probe never hangs a readiness endpoint. */
export async function withTimeout<T>(name: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 3000;
