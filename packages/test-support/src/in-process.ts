import { startService, type RunningService, type ServiceDefinition } from '@parley/service';
import type { ConfigSpec } from '@parley/config';

type Defer = (fn: () => unknown) => void;

export interface InTestService {
  svc: RunningService;
  /** What the service wrote to stderr (a config error names the variable there). */
  stderr: string[];
  /** Graceful stop; safe to call more than once, and run by `defer` anyway. */
  stop(): Promise<number>;
}

/**
 * A service in this test process, started from its definition as `main` would start it, and
 * stopped (gracefully) by `defer`. Throws when it did not start, with what it wrote to stderr.
 */
export async function startInTest<S extends ConfigSpec>(defer: Defer, def: ServiceDefinition<S>, env: Record<string, string | undefined>): Promise<InTestService> {
  const stderr: string[] = [];
  const svc = await startService(def, env, (l) => stderr.push(l));
  let stopped: Promise<number> | undefined;
  const stop = () => {
    if (!stopped) {
      svc.shutdown('test');
      stopped = svc.done;
    }
    return stopped;
  };
  defer(stop);
  if ((await Promise.race([svc.done, new Promise((r) => setTimeout(r, 0, 'running'))])) !== 'running') throw new Error(`${def.name} did not start: ${stderr.join('\n')}`);
  return { svc, stderr, stop };
}
