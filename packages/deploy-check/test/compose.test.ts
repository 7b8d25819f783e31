import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkComposeFile, COMPOSE_FILE, parseCompose, SERVICES } from '../src/index.js';

const text = readFileSync(COMPOSE_FILE, 'utf8');

test('docker-compose.yml runs every service and the four migrations, each with an environment its config schema accepts', () => {
  const { envs, problems } = checkComposeFile(parseCompose(text));
  assert.deepEqual(problems, []);
  assert.deepEqual([...new Set(envs.map((e) => e.process))].sort(), [...SERVICES, 'migrations'].sort());
  assert.equal(envs.filter((e) => e.process === 'migrations').length, 4);
});

test('the servers are pinned to exact versions', () => {
  const file = parseCompose(text);
  for (const name of ['postgres', 'redis', 'nats', 'kafka', 'scylla', 'elasticsearch']) {
    assert.match(String(file.services[name]?.['image']), /:\d+(\.\d+)+(-[a-z]+)?$/, name);
  }
});

test('a misspelt variable in the compose file fails the check, naming the service and the likely name', () => {
  const { problems } = checkComposeFile(parseCompose(text.replace('QUERY_SVC_GRPC_ADDR: chat-query-svc:50054', 'QUERY_SVC_GPRC_ADDR: chat-query-svc:50054')));
  assert.ok(problems.includes('compose service chat-realtime-svc: QUERY_SVC_GPRC_ADDR is not a variable of chat-realtime-svc (did you mean QUERY_SVC_GRPC_ADDR?)'), problems.join('\n'));
  assert.ok(problems.some((p) => /chat-realtime-svc: QUERY_SVC_GRPC_ADDR is required/.test(p)), problems.join('\n'));
});

test('a missing required variable, a bad value and a peer that is no service fail the check', () => {
  const broken = text
    .replace('      KAFKA_BROKERS: kafka:19092\n      CASSANDRA_CONTACT_POINTS: scylla:9042\n', '      CASSANDRA_CONTACT_POINTS: scylla:9042\n')
    .replace('OPS_PORT: 8007', 'OPS_PORT: eighty')
    .replace('WEB_ROOM_SVC_URL: http://room-svc:8002', 'WEB_ROOM_SVC_URL: http://rooms:8002');
  const problems = checkComposeFile(parseCompose(broken)).problems.join('\n');
  assert.match(problems, /compose service chat-command-cql-svc: KAFKA_BROKERS is required by chat-command-cql-svc and not set/);
  assert.match(problems, /compose service chat-command-elastic-svc: OPS_PORT = "eighty" is invalid/);
  assert.match(problems, /compose service web-gateway: WEB_ROOM_SVC_URL=http:\/\/rooms:8002 names no compose service/);
});
