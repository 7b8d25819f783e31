import { parseConfig, ConfigError, commonFields, type ConfigSpec, type ConfigOf, type Env } from '@parley/config';
import { component, Runner, type HealthCheck } from '@parley/lifecycle';
import { OpsServer } from './ops-server.js';
import { createLogger, type Logger } from '@parley/log';
import { createMetricsRegistry, type Registry } from '@parley/metrics';
import { bindTracer, startTracing, tracingFields } from '@parley/tracing';

/** Exit codes a supervisor can act on. */
export const EXIT = { OK: 0, FAILED: 1, CONFIG: 78 } as const;

/** Every service's schema has these besides its own: log level, shutdown deadline, tracing. */
export const serviceFields = { ...commonFields, ...tracingFields };
type WithCommon<S extends ConfigSpec> = S & typeof serviceFields;

export interface ServiceDefinition<S extends ConfigSpec> {
  name: string;
  spec: S;
  /**
   * Adds the service's components to the runner. Pure wiring: nothing starts here. `metrics`
   * is the process's registry (labelled with the service name): components register their
   * families on it and the service serves it at GET /metrics on its HTTP or ops port. The
   * service's tracer (TRACE_* fields, @parley/tracing) is bound to it: `tracerOf(metrics)`.
   */
  build(ctx: { config: ConfigOf<WithCommon<S>>; log: Logger; runner: Runner; metrics: Registry }): Promise<void> | void;
}

export interface RunningService {
  /** Begins a graceful stop; safe to call more than once. */
  shutdown(reason: string): void;
  /** Resolves with the exit code once everything stopped (or start failed). */
  done: Promise<number>;
}

/**
 * The body of every `cmd/<svc>/main.ts`: parse and validate config (a bad value ends the
 * process with EXIT.CONFIG and a message naming the field), start the components in order,
 * log "service ready", and stop them in reverse on shutdown within the configured deadline.
 * Signals and process.exit stay in main.
 */
export async function startService<S extends ConfigSpec>(def: ServiceDefinition<S>, env: Env, stderr: (line: string) => void): Promise<RunningService> {
  let config: ConfigOf<WithCommon<S>>;
  try {
    config = parseConfig({ ...def.spec, ...serviceFields } as WithCommon<S>, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr(`${def.name}: ${err.message}`);
    return { shutdown: () => undefined, done: Promise.resolve(EXIT.CONFIG) };
  }
  const common = config as unknown as ConfigOf<typeof serviceFields>;
  const log = createLogger({ service: def.name, level: common.logLevel });
  let exitCode: number = EXIT.OK;
  const runner = new Runner({
    stopTimeoutMs: common.shutdownTimeoutMs,
    onStarted: (name, ms) => log.info({ component: name, ms }, 'component started'),
    onStopped: (name, ms) => log.info({ component: name, ms }, 'component stopped'),
    onStopError: (name, err) => {
      exitCode = EXIT.FAILED;
      log.error({ component: name, err }, 'component did not stop cleanly');
    },
    onFatal: (name, err) => {
      exitCode = EXIT.FAILED;
      log.error({ component: name, err }, 'component failed; stopping the service');
    },
  });
  const tracing = startTracing(def.name, common);
  // First in, last out: spans of the whole shutdown are still sent.
  if (tracing.tracer) runner.add(component('tracing', () => undefined, () => tracing.shutdown()));
  const metrics = createMetricsRegistry(def.name);
  bindTracer(metrics, tracing.tracer);
  try {
    await def.build({ config, log, runner, metrics });
    await runner.start();
  } catch (err) {
    log.error({ err }, 'service failed to start');
    return { shutdown: () => undefined, done: Promise.resolve(EXIT.FAILED) };
  }
  log.info('service ready');
  return {
    shutdown: (reason) => {
      log.info({ reason }, 'shutting down');
      void runner.stop();
    },
    done: runner.wait().then(() => {
      log.info({ exitCode }, 'service stopped');
      return exitCode;
    }),
  };
}


export { OpsServer, type OpsServerOptions } from './ops-server.js';

/**
 * Gives a process without an HTTP API its /healthz, /readyz and /metrics (see OpsServer). Call
 * it first in `build`: the ops port then starts before everything and stops after everything,
 * and answers "unavailable" while the rest starts or drains.
 */
export function addOpsServer(runner: Runner, opts: { opsHost: string; opsPort: number; log: Logger; checks: readonly HealthCheck[]; metrics: Registry }): OpsServer {
  const ops = new OpsServer({ host: opts.opsHost, port: opts.opsPort, log: opts.log.child({ component: 'ops' }), checks: () => opts.checks, isStopping: () => runner.isStopping, metrics: opts.metrics });
  runner.add(ops);
  return ops;
}
