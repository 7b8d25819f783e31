import { test } from 'node:test';
import assert from 'node:assert/strict';
import { field, types } from '@parley/config';
import { component } from '@parley/lifecycle';
import { startService, EXIT } from '../src/index.js';

const spec = { port: field({ env: 'X_PORT', schema: types.port(), default: '8001', doc: 'port' }) };

test('a bad env value ends with EXIT.CONFIG and names the field', async () => {
  const lines: string[] = [];
  const svc = await startService({ name: 'x-svc', spec, build: () => undefined }, { X_PORT: 'eighty' }, (l) => lines.push(l));
  assert.equal(await svc.done, EXIT.CONFIG);
  assert.match(lines.join('\n'), /x-svc: invalid configuration:[\s\S]*X_PORT \(port\)/);
});

test('starts components, stops them on shutdown, exits 0', async () => {
  const events: string[] = [];
  const svc = await startService(
    {
      name: 'x-svc',
      spec,
      build: ({ config, runner }) => {
        assert.equal(config.port, 9000);
        runner.add(component('c', () => void events.push('start'), () => void events.push('stop')));
      },
    },
    { X_PORT: '9000', LOG_LEVEL: 'silent' },
    () => undefined,
  );
  assert.deepEqual(events, ['start']);
  svc.shutdown('test');
  assert.equal(await svc.done, EXIT.OK);
  assert.deepEqual(events, ['start', 'stop']);
});

test('a component that fails to start ends with EXIT.FAILED', async () => {
  const svc = await startService(
    {
      name: 'x-svc',
      spec,
      build: ({ runner }) => {
        runner.add(component('db', () => Promise.reject(new Error('no db')), () => undefined));
      },
    },
    { LOG_LEVEL: 'silent' },
    () => undefined,
  );
  assert.equal(await svc.done, EXIT.FAILED);
});
