import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, field, types, ConfigError, describeConfig, commonFields, kafkaFields } from '../src/index.js';

const spec = {
  port: field({ env: 'T_PORT', schema: types.port(), default: '8001', doc: 'http port' }),
  name: field({ env: 'T_NAME', schema: types.string(10), doc: 'a name' }),
  debug: field({ env: 'T_DEBUG', schema: types.bool(), default: 'false', doc: 'debug' }),
  token: field({ env: 'T_TOKEN', schema: types.string(), default: 'hunter2', doc: 'secret', secret: true }),
  ...kafkaFields,
  ...commonFields,
};

test('applies defaults and coerces types', () => {
  const cfg = parseConfig(spec, { T_NAME: 'edge' });
  assert.equal(cfg.port, 8001);
  assert.equal(cfg.name, 'edge');
  assert.equal(cfg.debug, false);
  assert.deepEqual(cfg.kafkaBrokers, ['127.0.0.1:9092']);
  assert.equal(cfg.logLevel, 'info');
});

test('empty string means unset', () => {
  const cfg = parseConfig(spec, { T_NAME: 'x', T_PORT: '' });
  assert.equal(cfg.port, 8001);
});

test('a missing required field names the env variable and field', () => {
  assert.throws(() => parseConfig(spec, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /T_NAME \(name\) is required/);
    return true;
  });
});

test('all invalid fields are reported together, secrets redacted', () => {
  assert.throws(
    () => parseConfig(spec, { T_NAME: 'way-too-long-name', T_PORT: '70000', T_DEBUG: 'maybe', T_TOKEN: '', KAFKA_BROKERS: 'nohost' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4);
      assert.match(err.message, /T_PORT \(port\) = "70000" is invalid/);
      assert.match(err.message, /T_DEBUG/);
      assert.match(err.message, /KAFKA_BROKERS \(kafkaBrokers\).*host:port/);
      return true;
    },
  );
  assert.throws(() => parseConfig({ t: field({ env: 'S', schema: types.int(1, 2), doc: 'x', secret: true }) }, { S: '99' }), /<redacted>/);
});

test('describeConfig lists env, default and doc', () => {
  const rows = describeConfig(spec);
  assert.deepEqual(rows[0], { env: 'T_PORT', default: '8001', doc: 'http port' });
  assert.equal(rows.find((r) => r.env === 'T_TOKEN')?.default, '<secret>');
  assert.equal(rows.find((r) => r.env === 'T_NAME')?.default, '(required)');
});
