import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAgreement, checkProcessEnv, isRequiredInDeployment, nearest, PROCESS_SPECS, type ProcessEnv } from '../src/index.js';

const spec = PROCESS_SPECS['chat-ingestion-svc']!;
/** What the chart gives chat-ingestion-svc, less its secrets: the baseline each test breaks once. */
const good = (): ProcessEnv => ({
  where: 'Deployment/x',
  process: 'chat-ingestion-svc',
  secretsByReference: true,
  env: [
    { name: 'NATS_URL', secretRef: 'parley/nats-url-chat-ingestion-svc' },
    { name: 'KAFKA_BROKERS', value: 'kafka-0.kafka:9092,kafka-1.kafka:9092' },
    { name: 'OPS_HOST', value: '0.0.0.0' },
    { name: 'OPS_PORT', value: '9000' },
    { name: 'INGESTION_BUFFER', value: '4000' },
    { name: 'TRACE_URL', value: 'http://zipkin:9411/api/v2/spans' },
  ],
});
const withEnv = (p: ProcessEnv, env: ProcessEnv['env']): ProcessEnv => ({ ...p, env });

test('a complete environment has no problems', () => {
  assert.deepEqual(checkProcessEnv(good(), spec), []);
});

test('a misspelt variable is reported, with the name it was probably meant to be', () => {
  const p = good();
  const problems = checkProcessEnv(withEnv(p, p.env.map((e) => (e.name === 'INGESTION_BUFFER' ? { ...e, name: 'INGESTION_BUFER' } : e))), spec);
  assert.deepEqual(problems, ['Deployment/x: INGESTION_BUFER is not a variable of chat-ingestion-svc (did you mean INGESTION_BUFFER?)']);
});

test('a missing required variable is reported: its default only works on one machine', () => {
  const p = good();
  const problems = checkProcessEnv(withEnv(p, p.env.filter((e) => e.name !== 'KAFKA_BROKERS')), spec);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /KAFKA_BROKERS is required by chat-ingestion-svc and not set \(its default 127\.0\.0\.1:9092 only works on one machine\)/);
});

test('an ops port left at 0 (any free port) is reported: probes need a fixed one', () => {
  const p = good();
  assert.match(checkProcessEnv(withEnv(p, p.env.filter((e) => e.name !== 'OPS_PORT')), spec).join('\n'), /OPS_PORT is required/);
});

test('a value the schema refuses is reported with the schema reason', () => {
  const p = good();
  const problems = checkProcessEnv(withEnv(p, [...p.env.filter((e) => e.name !== 'INGESTION_BUFFER'), { name: 'INGESTION_BUFFER', value: 'lots' }]), spec);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /INGESTION_BUFFER = "lots" is invalid for chat-ingestion-svc/);
});

test('a loopback address in a container is reported, a secret as a literal too (Kubernetes), and a repeated name', () => {
  const p = good();
  const env = [...p.env.filter((e) => e.name !== 'NATS_URL' && e.name !== 'OPS_HOST'), { name: 'NATS_URL', value: 'nats://u:p@nats:4222' }, { name: 'OPS_HOST', value: '127.0.0.1' }, { name: 'OPS_PORT', value: '9001' }];
  const problems = checkProcessEnv(withEnv(p, env), spec).join('\n');
  assert.match(problems, /NATS_URL is a secret: give it by reference/);
  assert.match(problems, /OPS_HOST = "127\.0\.0\.1" points at the container itself/);
  assert.match(problems, /OPS_PORT is set twice/);
  assert.doesNotMatch(problems, /u:p@/, 'a secret is never echoed');
  assert.deepEqual(checkProcessEnv({ ...withEnv(p, env.slice(0, -1)), secretsByReference: false }, spec).filter((l) => /NATS_URL/.test(l)), [], 'compose may give secrets as values');
});

test('what counts as required in a deployment', () => {
  const f = (env: string, def?: string) => ({ env, schema: spec['opsPort']!.schema, doc: '', ...(def !== undefined ? { default: def } : {}) });
  assert.equal(isRequiredInDeployment(f('X')), true, 'no default');
  assert.equal(isRequiredInDeployment(f('X_URL', 'postgres://postgres@127.0.0.1:5432/parley')), true);
  assert.equal(isRequiredInDeployment(f('X_HOST', 'localhost')), true);
  assert.equal(isRequiredInDeployment(f('X_PORT', '0')), true);
  assert.equal(isRequiredInDeployment(f('X_PORT', '8001')), false);
  assert.equal(isRequiredInDeployment(f('X_PREFIX', 'parley:rt:')), false);
  assert.equal(nearest('KAFKA_BROKER', ['KAFKA_BROKERS', 'KAFKA_TOPIC']), 'KAFKA_BROKERS');
  assert.equal(nearest('SOMETHING_ELSE', ['KAFKA_BROKERS']), undefined);
});

test('variables several processes read must agree; per-process ones may differ', () => {
  const ingestion = good();
  const cql: ProcessEnv = { where: 'Deployment/cql', process: 'chat-command-cql-svc', secretsByReference: true, env: [{ name: 'KAFKA_BROKERS', value: 'kafka-0.kafka:9092,kafka-1.kafka:9092' }, { name: 'KAFKA_TOPIC', value: 'chat.other' }, { name: 'OPS_PORT', value: '9100' }, { name: 'TRACE_URL', value: 'http://zipkin:9411/api/v2/spans' }] };
  const problems = checkAgreement([ingestion, cql], PROCESS_SPECS);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^KAFKA_TOPIC must be one value across the deployment: Deployment\/x KAFKA_TOPIC="chat\.messages", Deployment\/cql KAFKA_TOPIC="chat\.other"$/);
  const gw: ProcessEnv = { where: 'gw', process: 'web-gateway', secretsByReference: false, env: [{ name: 'WEB_PROXY_SECRET', value: 'a-long-enough-secret-1' }] };
  const user: ProcessEnv = { where: 'user', process: 'user-svc', secretsByReference: false, env: [{ name: 'USER_PROXY_SECRET', value: 'another-long-secret-22' }] };
  const shared = checkAgreement([gw, user], PROCESS_SPECS).join('\n');
  assert.match(shared, /WEB_PROXY_SECRET\|USER_PROXY_SECRET\|REALTIME_PROXY_SECRET must be one value/);
  assert.doesNotMatch(shared, /long-enough|another-long/, 'secrets are redacted');
});
