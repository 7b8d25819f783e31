import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { LightMyRequestResponse } from 'fastify';
import { ParleyError } from '@parley/errors';
import { silentLogger } from '@parley/log';
import { messageSchema } from '@parley/contracts';
import { buildHttpApp, errorAnswers, jsonAnswer, noContent, registerRoutes, sessionSecurity } from '../src/index.js';
import { openApiContract } from '../src/openapi-contract.js';

/** A small service: one route of each kind, and two that break their own contract. */
function app(sizeMeta: Record<string, unknown> = {}) {
  const Thing = z.object({ id: z.string(), size: z.number().int().meta(sizeMeta) });
  const a = buildHttpApp({ log: silentLogger(), bodyLimit: 1024, openapi: { title: 'things', description: 'a test service' } });
  registerRoutes(a, (r) => {
    r.get(
      '/things/:id',
      {
        schema: {
          summary: 'Get a thing',
          security: sessionSecurity,
          params: z.strictObject({ id: z.string().regex(/^t\d+$/, 'must be a thing id') }),
          querystring: z.strictObject({ limit: z.coerce.number().int().max(5, 'must be at most 5').default(1) }),
          response: { 200: jsonAnswer('the thing', Thing), ...errorAnswers('VALIDATION_FAILED', 'NOT_FOUND') },
        },
      },
      async (req) => {
        if (req.params.id === 't0') throw new ParleyError('NOT_FOUND', 'no such thing');
        if (req.params.id === 't9') throw new ParleyError('CONFLICT', 'an answer the route does not document');
        return { id: req.params.id, size: req.query.limit };
      },
    );
    r.post(
      '/things/:id',
      {
        schema: {
          params: z.strictObject({ id: z.string().regex(/^t\d+$/, 'must be a thing id') }),
          body: z.strictObject({ size: z.number().int() }),
          response: { 204: noContent('stored'), ...errorAnswers('VALIDATION_FAILED') },
        },
      },
      async (_req, reply) => reply.code(204).send(),
    );
    r.get('/liar', { schema: { response: { 200: jsonAnswer('a message', messageSchema) } } }, async () => ({ v: 1, id: 'not an id' }) as never);
  });
  return a;
}

function answer(res: LightMyRequestResponse) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, String(v));
  return { status: res.statusCode, headers, body: res.body === '' ? undefined : res.json() };
}

test('the document is generated from the route schemas and keeps only the schemas it refers to', async (t) => {
  const a = app();
  t.after(() => a.close());
  const doc = (await a.inject({ method: 'GET', url: '/openapi.json' })).json();
  assert.equal(doc.openapi, '3.0.3');
  assert.equal(doc.info.title, 'things');
  const get = doc.paths['/things/{id}'].get;
  assert.equal(get.summary, 'Get a thing');
  assert.deepEqual(get.security, [{ bearer: [] }, { cookie: [] }]);
  assert.deepEqual(
    get.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`),
    ['query:limit', 'path:id'],
  );
  assert.equal(get.responses['404'].content['application/json'].schema.$ref, '#/components/schemas/ErrorBody');
  assert.match(get.responses['400'].description, /VALIDATION_FAILED/);
  assert.equal(doc.paths['/things/{id}'].post.responses['204'].content, undefined, 'a 204 has no body');
  assert.ok(doc.paths['/healthz'] && doc.paths['/readyz'] && doc.paths['/openapi.json']);
  assert.deepEqual(Object.keys(doc.components.schemas).sort(), ['ErrorBody', 'Message', 'ReactionCount'], 'no WebSocket frames, no unused input flavours');
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'cookie']);

  const page = await a.inject({ method: 'GET', url: '/docs/' });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /text\/html/);
  assert.equal((await a.inject({ method: 'GET', url: '/docs/json' })).json().info.title, 'things');
});

test("route schemas refuse bad input with parseInput's words: params, then body, then query", async (t) => {
  const a = app();
  t.after(() => a.close());
  const cases: Array<[string, string, string | undefined, RegExp]> = [
    ['GET', '/things/x?limit=9', undefined, /^invalid path: id: must be a thing id$/],
    ['GET', '/things/t1?limit=9', undefined, /^invalid query: limit: must be at most 5$/],
    ['GET', '/things/t1?other=1', undefined, /^invalid query: query: Unrecognized key: "other"$/],
    ['POST', '/things/t1', '{"size":"big"}', /^invalid body: size: Invalid input: expected number, received string$/],
    ['POST', '/things/t1', '', /^invalid body: body: Invalid input: expected object/],
    ['POST', '/things/x', '{"size":"big"}', /^invalid path: id:/],
  ];
  for (const [method, url, payload, message] of cases) {
    const res = await a.inject({ method: method as 'GET' | 'POST', url, ...(payload !== undefined ? { payload, headers: { 'content-type': 'application/json' } } : {}) });
    assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
    const { error } = res.json();
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.match(error.message, message, `${method} ${url}`);
    assert.ok(Array.isArray(error.details.issues), 'each issue is in details too');
  }
  const ok = await a.inject({ method: 'GET', url: '/things/t1?limit=3' });
  assert.deepEqual(ok.json(), { id: 't1', size: 3 }, 'the handler sees parsed values');
});

test('an answer that breaks its schema is never sent: it becomes a 500 INTERNAL', async (t) => {
  const a = app();
  t.after(() => a.close());
  const res = await a.inject({ method: 'GET', url: '/liar' });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(res.json(), { error: { code: 'INTERNAL', message: 'internal error' } });
});

test('the contract check passes real answers and fails on an undocumented status or a wrong claim', async (t) => {
  const a = app();
  t.after(() => a.close());
  const doc = (await a.inject({ method: 'GET', url: '/openapi.json' })).json();
  const contract = openApiContract(doc);
  assert.ok(contract.unchecked().includes('GET /things/{id}: no success answer checked'));
  contract.check('GET', '/things/t1?limit=2', answer(await a.inject({ method: 'GET', url: '/things/t1?limit=2' })));
  contract.check('GET', '/things/t0', answer(await a.inject({ method: 'GET', url: '/things/t0' })));
  contract.check('POST', '/things/t1', answer(await a.inject({ method: 'POST', url: '/things/t1', payload: { size: 1 } })));
  contract.check('POST', '/things/x', answer(await a.inject({ method: 'POST', url: '/things/x', payload: { size: 1 } })));
  assert.throws(() => contract.check('GET', '/things/t9', { status: 409, headers: new Headers({ 'content-type': 'application/json' }), body: {} }), /GET \/things\/\{id\} answered 409, which the document does not list/);
  assert.throws(() => contract.check('POST', '/things/t1', { status: 204, headers: new Headers(), body: { size: 1 } }), /has none/);
  assert.throws(() => contract.check('GET', '/nowhere', { status: 200, headers: new Headers(), body: undefined }), /not in the document/);
  assert.deepEqual(
    contract.unchecked().filter((u) => u.includes('/things')),
    [],
  );

  // A claim the document makes that the answers do not keep, e.g. a wrong bound added by meta.
  const wrong = app({ maximum: 0 });
  t.after(() => wrong.close());
  const lying = openApiContract((await wrong.inject({ method: 'GET', url: '/openapi.json' })).json());
  const real = answer(await wrong.inject({ method: 'GET', url: '/things/t1' }));
  assert.throws(() => lying.check('GET', '/things/t1', real), /body\/size must be <= 0/);
});
