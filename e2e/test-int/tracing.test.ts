/**
 * One message, one trace: the whole system as processes (e2e/system.ts) with every service
 * tracing everything into a Zipkin of the test's own, then Zipkin's HTTP API is asked for the
 * trace of one sent message and must hold a span of every hop, each under the one before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { Client } from '@parley/test-support/realtime-svc';
import { startZipkin, type ZipkinSpan } from '@parley/test-support/zipkin';
import { startSystem } from '../system.js';

/** Every hop of a message, as span name → the service that records it. */
const HOPS: Record<string, string> = {
  'ws send': 'chat-realtime-svc',
  'jetstream publish': 'chat-realtime-svc',
  ingest: 'chat-ingestion-svc',
  'kafka produce': 'chat-ingestion-svc',
  'cassandra write': 'chat-command-cql-svc',
  'elasticsearch write': 'chat-command-elastic-svc',
  fanout: 'chat-realtime-svc',
};

test('one sent message is one trace in Zipkin with a span from every hop: edge, JetStream publish, ingestion, Kafka produce, both store writes, fanout', { timeout: 300_000 }, async (t) => {
  const defer = deferrer(t);
  const zipkin = await startZipkin();
  defer(() => zipkin.dispose());
  const system = await startSystem({ env: { TRACE_SAMPLE_RATIO: '1', TRACE_URL: zipkin.spansUrl } });
  defer(() => system.stop());

  const alice = await system.signUp();
  const room = await alice.rest.createRoom('traced', 'public');
  const socket = await Client.open(`${system.urls.edges[0]}/v1/rooms/${room.id}/ws`, alice.token);
  defer(() => socket.close());
  await socket.next((f) => f.type === 'history');
  // Marked a resend, so the edge also asks the store for its retry key: that call is in the trace too.
  const from = socket.frames.length;
  socket.send({ type: 'send', client_msg_id: 'traced-1', body: 'follow me', retry: true });
  const ack = await socket.next((f) => (f.type === 'ack' || f.type === 'error') && f['client_msg_id'] === 'traced-1', 15_000, from);
  assert.equal(ack.type, 'ack', JSON.stringify(ack));
  const id = ack['id'] as string;
  await socket.next((f) => f.type === 'message' && (f['message'] as { id: string }).id === id);

  // The edge's root span names the message once it is published; find its trace from there.
  const spans = await eventually(
    async () => {
      const [found] = await zipkin.traces({ serviceName: 'chat-realtime-svc', annotationQuery: `parley.message_id=${id}` });
      if (!found) return undefined;
      const all = await zipkin.trace(found[0]!.traceId);
      return Object.keys(HOPS).every((name) => all.some((s) => s.name === name)) ? all : undefined;
    },
    90_000,
    500,
  );
  const one = (name: string): ZipkinSpan => {
    const matching = spans.filter((s) => s.name === name);
    assert.equal(matching.length, 1, `one ${name} span, got ${matching.length}`);
    return matching[0]!;
  };
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
  for (const [name, service] of Object.entries(HOPS)) assert.equal(one(name).localEndpoint?.serviceName, service, `${name} recorded by ${service}`);
  const parentOf = (name: string) => spans.find((s) => s.id === one(name).parentId)?.name;
  assert.equal(one('ws send').parentId, undefined, 'the WebSocket command is the root');
  assert.equal(parentOf('jetstream publish'), 'ws send');
  assert.equal(parentOf('ingest'), 'jetstream publish');
  assert.equal(parentOf('fanout'), 'jetstream publish');
  assert.equal(parentOf('kafka produce'), 'ingest');
  assert.equal(parentOf('cassandra write'), 'kafka produce');
  assert.equal(parentOf('elasticsearch write'), 'kafka produce');
  assert.equal(one('jetstream publish').tags?.['parley.message_id'], id);
  assert.equal(one('cassandra write').tags?.['parley.message_id'], id);
  // The command's check against the store is a gRPC call inside the same trace.
  const prepare = spans.find((s) => s.name.endsWith('/preparecommand'));
  assert.ok(prepare, `a PrepareCommand span in ${spans.map((s) => s.name).join(', ')}`);
  assert.equal(prepare.localEndpoint?.serviceName, 'chat-query-svc');
  assert.equal(spans.find((s) => s.id === prepare.parentId)?.name, 'ws send');

  // REST is traced too: the room creation is a server span of room-svc.
  const rest = await eventually(async () => (await zipkin.traces({ serviceName: 'room-svc', spanName: 'post /v1/rooms' }))[0], 30_000, 500);
  assert.equal(rest[0]?.kind, 'SERVER');
  t.diagnostic(`trace ${spans[0]!.traceId}: ${spans.length} spans (${[...new Set(spans.map((s) => s.localEndpoint?.serviceName))].join(', ')})`);
});
