import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConfigSpec } from '@parley/config';
import { CHART_DIR, REPO_ROOT } from './helm.js';
import { PROCESS_SPECS } from './specs.js';

/**
 * The variables the chart's templates set (_helpers.tpl): `parley.sharedEnv` gives each of these
 * to every process whose schema has it, `parley.ownEnv` sets a service's listen addresses, ports
 * and deadline. A process's `env` and `secretEnv` may not set them; the tests hold these lists
 * to what the chart renders.
 */
export const SHARED_ENV: readonly string[] = [
  'LOG_LEVEL', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'KAFKA_DLQ_TOPIC', 'KAFKA_TOPIC_PARTITIONS', 'MESSAGE_MAX_BODY_BYTES', 'NATS_STREAM', 'NATS_SUBJECT_PREFIX',
  'ROOM_EVENTS_PREFIX', 'ROOM_EVENTS_STREAM', 'SESSION_EVENTS_PREFIX', 'SESSION_EVENTS_STREAM', 'CASSANDRA_CONTACT_POINTS', 'CASSANDRA_LOCAL_DC', 'CASSANDRA_KEYSPACE',
  'ELASTICSEARCH_URL', 'ELASTICSEARCH_INDEX_PREFIX', 'USER_SVC_GRPC_ADDR', 'ROOM_SVC_GRPC_ADDR', 'QUERY_SVC_GRPC_ADDR', 'OPS_HOST',
  'TRACE_SAMPLE_RATIO', 'TRACE_EXPORTER', 'TRACE_URL',
];
const OWN_ENV: Readonly<Record<string, readonly string[]>> = {
  'user-svc': ['USER_HTTP_HOST', 'USER_HTTP_PORT', 'USER_GRPC_HOST', 'USER_GRPC_PORT', 'USER_TRUSTED_PROXIES'],
  'room-svc': ['ROOM_HTTP_HOST', 'ROOM_HTTP_PORT', 'ROOM_GRPC_HOST', 'ROOM_GRPC_PORT'],
  'chat-query-svc': ['QUERY_HTTP_HOST', 'QUERY_HTTP_PORT', 'QUERY_GRPC_HOST', 'QUERY_GRPC_PORT'],
  'chat-realtime-svc': ['REALTIME_HOST', 'REALTIME_PORT', 'REALTIME_TRUSTED_PROXIES'],
  'web-gateway': ['WEB_HOST', 'WEB_PORT', 'WEB_TRUSTED_PROXIES', 'WEB_USER_SVC_URL', 'WEB_ROOM_SVC_URL', 'WEB_QUERY_SVC_URL', 'WEB_REALTIME_URL'],
};

/** What the chart sets itself for one process (a service also gets SHUTDOWN_TIMEOUT_MS, and OPS_PORT when it has one). */
export function managedEnv(process: string): string[] {
  const known = Object.values(PROCESS_SPECS[process] ?? {}).map((f) => f.env);
  const own = process === 'migrations' ? [] : ['SHUTDOWN_TIMEOUT_MS', ...(known.includes('OPS_PORT') ? ['OPS_PORT'] : []), ...(OWN_ENV[process] ?? [])];
  return [...new Set([...SHARED_ENV.filter((n) => known.includes(n)), ...own])].sort();
}

/** files/process-env.json: the variable names of each process's schema, for the templates. */
export function processEnvNames(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(PROCESS_SPECS).map(([p, spec]) => [p, Object.values(spec).map((f) => f.env).sort()]));
}

type Schema = Record<string, unknown>;
const strict = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) });
const free: Schema = { type: 'object' };
const int = (minimum: number, maximum?: number): Schema => ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}) });
const text: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const port = int(1, 65535);

/** The variables a process's `env` (literal) and `secretEnv` (by reference) may set. */
function envSchemas(spec: ConfigSpec, managed: readonly string[]): { env: Schema; secretEnv: Schema } {
  const fields = Object.values(spec).filter((f) => !managed.includes(f.env)).sort((a, b) => a.env.localeCompare(b.env));
  const secretRef: Schema = { oneOf: [{ type: 'string', minLength: 1, description: 'a key of secrets.existingSecret' }, strict({ name: { type: 'string', minLength: 1 }, key: { type: 'string', minLength: 1 } }, ['name', 'key'])] };
  // A default under the checkout (WEB_ROOT) is shown relative to it: /app/ in the image.
  const shown = (d: string) => JSON.stringify(d.startsWith(REPO_ROOT) ? `/app/${d.slice(REPO_ROOT.length)}` : d);
  const env = Object.fromEntries(fields.filter((f) => !f.secret).map((f) => [f.env, { type: ['string', 'number', 'boolean'], description: `${f.doc}${f.default !== undefined ? ` (default ${shown(f.default)})` : ''}` }]));
  const secretEnv = Object.fromEntries(fields.map((f) => [f.env, { ...secretRef, description: f.doc }]));
  return { env: strict(env), secretEnv: strict(secretEnv) };
}

function serviceSchema(name: string): Schema {
  const { env, secretEnv } = envSchemas(PROCESS_SPECS[name]!, managedEnv(name));
  return strict(
    {
      enabled: bool,
      replicas: int(0),
      ports: { type: 'object', additionalProperties: false, minProperties: 1, properties: Object.fromEntries(['http', 'grpc', 'ws', 'ops'].map((p) => [p, port])) },
      shutdownTimeoutSeconds: { ...int(1, 120), description: 'SHUTDOWN_TIMEOUT_MS in seconds; terminationGracePeriodSeconds = preStopSleepSeconds + this + 5' },
      resources: free,
      env,
      secretEnv,
      pdb: strict({ enabled: bool, maxUnavailable: { type: ['integer', 'string'] }, minAvailable: { type: ['integer', 'string'] } }, ['enabled']),
      autoscaling: strict(
        { enabled: bool, minReplicas: int(1), maxReplicas: int(1), targetCPUUtilizationPercentage: int(1, 100), scaleDownStabilizationSeconds: int(0, 3600), scaleDownPodsPerMinute: int(1) },
        ['enabled'],
      ),
      nodeSelector: free,
      tolerations: { type: 'array' },
      affinity: free,
      topologySpreadConstraints: { type: 'array' },
    },
    ['enabled', 'replicas', 'ports', 'shutdownTimeoutSeconds', 'resources', 'env', 'secretEnv', 'pdb', 'autoscaling'],
  );
}

/** The chart's values.schema.json: Helm checks every install, upgrade, template and lint against it. */
export function valuesSchema(): Schema {
  const services = Object.keys(PROCESS_SPECS).filter((p) => p !== 'migrations');
  const migrations = envSchemas(PROCESS_SPECS['migrations']!, managedEnv('migrations'));
  const secretNames = [...new Set(Object.values(PROCESS_SPECS).flatMap((spec) => Object.values(spec).filter((f) => f.secret).map((f) => f.env)))].sort();
  const probe = strict({ periodSeconds: int(1), timeoutSeconds: int(1), failureThreshold: int(1), initialDelaySeconds: int(0), successThreshold: int(1) });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Parley chart values (generated by `make helm-schema` from the services config schemas: do not edit)',
    ...strict(
      {
        image: strict({ repository: { type: 'string', minLength: 1 }, tag: text, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }, ['repository']),
        imagePullSecrets: { type: 'array' },
        logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
        external: strict(
          {
            kafka: strict({ brokers: { type: 'string', minLength: 1 } }, ['brokers']),
            cassandra: strict({ contactPoints: { type: 'string', minLength: 1 }, localDc: text, keyspace: text }, ['contactPoints', 'localDc', 'keyspace']),
            elasticsearch: strict({ url: { type: 'string', pattern: '^https?://' }, indexPrefix: text }, ['url', 'indexPrefix']),
          },
          ['kafka', 'cassandra', 'elasticsearch'],
        ),
        secrets: strict(
          { existingSecret: { type: 'string', minLength: 1 }, keys: strict(Object.fromEntries(secretNames.map((n) => [n, { type: 'string', minLength: 1, description: 'key of existingSecret; {process} is replaced by the name of the process' }]))) },
          ['existingSecret', 'keys'],
        ),
        pipeline: strict(
          { natsStream: text, natsSubjectPrefix: text, eventsPrefix: text, roomEventsStream: text, sessionEventsStream: text, kafkaTopic: text, kafkaDlqTopic: text, kafkaTopicPartitions: int(1, 10_000), messageMaxBodyBytes: int(1, 60_000) },
          ['natsStream', 'natsSubjectPrefix', 'eventsPrefix', 'roomEventsStream', 'sessionEventsStream', 'kafkaTopic', 'kafkaDlqTopic', 'kafkaTopicPartitions', 'messageMaxBodyBytes'],
        ),
        network: strict({ trustedProxies: text, gatewayTrustedProxies: text }, ['trustedProxies']),
        tracing: strict({ sampleRatio: { type: 'number', minimum: 0, maximum: 1 }, exporter: { enum: ['zipkin', 'otlp'] }, url: { type: 'string', pattern: '^https?://' } }, ['sampleRatio', 'exporter', 'url']),
        preStopSleepSeconds: int(0, 60),
        podSecurityContext: free,
        securityContext: free,
        serviceAccountName: text,
        podAnnotations: free,
        podLabels: free,
        probes: strict({ readiness: probe, liveness: probe, startup: probe }, ['readiness', 'liveness', 'startup']),
        migrations: strict({ enabled: bool, hook: bool, backoffLimit: int(0), activeDeadlineSeconds: int(1), env: migrations.env, secretEnv: migrations.secretEnv, resources: free }, ['enabled']),
        ingress: strict({ enabled: bool, className: text, annotations: free, host: text, tlsSecretName: text }, ['enabled']),
        services: strict(Object.fromEntries(services.map((s) => [s, serviceSchema(s)])), services),
      },
      ['image', 'external', 'secrets', 'pipeline', 'network', 'tracing', 'services'],
    ),
  };
}

export const VALUES_SCHEMA_PATH = join(CHART_DIR, 'values.schema.json');
export const PROCESS_ENV_PATH = join(CHART_DIR, 'files/process-env.json');

/** The two files `make helm-schema` generates from the config schemas, by path, as they should read. */
export function generatedChartFiles(): Record<string, string> {
  return {
    [VALUES_SCHEMA_PATH]: `${JSON.stringify(valuesSchema(), null, 2)}\n`,
    [PROCESS_ENV_PATH]: `${JSON.stringify(processEnvNames(), null, 2)}\n`,
  };
}

/** `make helm-schema`: writes them. */
export function writeGeneratedChartFiles(): string[] {
  const files = generatedChartFiles();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return Object.keys(files);
}
