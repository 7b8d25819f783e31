import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '@parley/config';
import { kafkaTraceContext, natsTraceContext, ROOT_CONTEXT, SpanKind, startSpan, startTracing, trace, traceHeaders, tracingFields, withSpan } from '../src/index.js';

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint: { serviceName: string };
}

/** A stand-in for Zipkin's POST /api/v2/spans that keeps what it was sent. */
async function fakeZipkin(t: { after(fn: () => unknown): void }) {
  const spans: ZipkinSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += String(c)));
    req.on('end', () => {
      spans.push(...(JSON.parse(body) as ZipkinSpan[]));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/spans`, spans };
}

const config = (env: Record<string, string>) => parseConfig(tracingFields, env);

test('off by default: no tracer at all', () => {
  assert.equal(startTracing('x-svc', config({})).tracer, undefined);
  assert.equal(config({}).traceSampleRatio, 0);
  assert.throws(() => config({ TRACE_SAMPLE_RATIO: '1.5' }), /TRACE_SAMPLE_RATIO/);
  assert.throws(() => config({ TRACE_SAMPLE_RATIO: 'all' }), /TRACE_SAMPLE_RATIO/);
});

test('a trace crosses headers from one service to the next and reaches Zipkin with each service named', async (t) => {
  const zipkin = await fakeZipkin(t);
  const edge = startTracing('edge-svc', config({ TRACE_SAMPLE_RATIO: '1', TRACE_URL: zipkin.url }));
  // The next hop samples almost nothing of its own, but follows a traced parent.
  const worker = startTracing('worker-svc', config({ TRACE_SAMPLE_RATIO: '0.000001', TRACE_URL: zipkin.url }));
  t.after(() => Promise.all([edge.shutdown(), worker.shutdown()]));
  assert.ok(edge.tracer && worker.tracer);

  const root = startSpan(edge.tracer, 'ws send', SpanKind.SERVER);
  const publish = withSpan(root, () => startSpan(edge.tracer!, 'jetstream publish', SpanKind.PRODUCER));
  const natsHeaders = traceHeaders(publish);
  assert.match(natsHeaders['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  publish.end();
  root.end();

  const ingest = startSpan(worker.tracer, 'ingest', SpanKind.CONSUMER, {}, natsTraceContext({ get: (k) => natsHeaders[k] ?? '' })!);
  const produce = startSpan(worker.tracer, 'kafka produce', SpanKind.PRODUCER, {}, trace.setSpan(ROOT_CONTEXT, ingest));
  const kafkaHeaders = { v: Buffer.from('1'), traceparent: Buffer.from(traceHeaders(produce)['traceparent'] ?? '') };
  const write = startSpan(worker.tracer, 'cassandra write', SpanKind.CONSUMER, {}, kafkaTraceContext(kafkaHeaders)!);
  for (const s of [write, produce, ingest]) s.end();
  await Promise.all([edge.flush(), worker.flush()]);

  const byName = new Map(zipkin.spans.map((s) => [s.name, s]));
  const get = (name: string) => byName.get(name) ?? assert.fail(`no span ${name} in ${[...byName.keys()].join(', ')}`);
  assert.equal(new Set(zipkin.spans.map((s) => s.traceId)).size, 1, 'one trace');
  assert.equal(get('jetstream publish').parentId, get('ws send').id);
  assert.equal(get('ingest').parentId, get('jetstream publish').id);
  assert.equal(get('kafka produce').parentId, get('ingest').id);
  assert.equal(get('cassandra write').parentId, get('kafka produce').id);
  assert.equal(get('ws send').localEndpoint.serviceName, 'edge-svc');
  assert.equal(get('cassandra write').localEndpoint.serviceName, 'worker-svc');
  assert.equal(get('jetstream publish').kind, 'PRODUCER');
});

test('a message without a sampled traceparent is traced by no later hop', () => {
  assert.equal(natsTraceContext(undefined), undefined);
  assert.equal(natsTraceContext({ get: () => '' }), undefined);
  const unsampled = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;
  assert.equal(natsTraceContext({ get: (k) => (k === 'traceparent' ? unsampled : '') }), undefined);
  assert.equal(kafkaTraceContext({ traceparent: Buffer.from(unsampled) }), undefined);
  assert.equal(kafkaTraceContext({ v: Buffer.from('1') }), undefined);
  const sampled = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
  assert.equal(trace.getSpanContext(kafkaTraceContext({ traceparent: [Buffer.from(sampled)] })!)?.traceId, 'a'.repeat(32));
});
