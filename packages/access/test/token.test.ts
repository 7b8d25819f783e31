import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractToken, sessionCookie } from '../src/index.js';

const tok = 'abcDEF123_-'.padEnd(43, 'x');

test('extractToken reads each carrier, in order of precedence', () => {
  assert.deepEqual(extractToken({ authorization: `Bearer ${tok}` }), { token: tok, source: 'authorization' });
  assert.deepEqual(extractToken({ authorization: `bearer   ${tok}` }), { token: tok, source: 'authorization' });
  assert.deepEqual(extractToken({ cookie: `a=1; parley_session=${tok}; b=2` }), { token: tok, source: 'cookie' });
  assert.deepEqual(extractToken({ cookie: `parley_session="${tok}"` }), { token: tok, source: 'cookie' });
  assert.deepEqual(extractToken({ protocol: `parley.v1, parley.token.${tok}` }), { token: tok, source: 'protocol' });
  assert.deepEqual(extractToken({ query: `room=1&access_token=${tok}` }), { token: tok, source: 'query' });
  assert.deepEqual(extractToken({ query: new URLSearchParams({ access_token: tok }) }), { token: tok, source: 'query' });
  assert.equal(extractToken({ authorization: `Bearer ${tok}`, cookie: 'parley_session=other' })?.token, tok);
  assert.equal(extractToken({ authorization: 'Basic x', cookie: `parley_session=${tok}` })?.source, 'cookie');
});

test('extractToken finds nothing in empty, malformed or foreign carriers', () => {
  for (const c of [
    {},
    { authorization: 'Bearer' },
    { authorization: 'Bearer a b' },
    { cookie: 'parley_session=' },
    { cookie: 'xparley_session=abc' },
    { cookie: 'parley_session=%E0%A4%A' },
    { protocol: 'parley.token.' },
    { protocol: 'chat, other' },
    { query: 'token=abc' },
  ]) {
    assert.equal(extractToken(c), undefined, JSON.stringify(c));
  }
});

test('the session cookie is HttpOnly and SameSite', () => {
  assert.equal(sessionCookie(tok, 60, true), `parley_session=${tok}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure`);
});
