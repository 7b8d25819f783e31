import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIp, normalizeIp, parseTrustedProxies, trustedProxiesSchema } from '../src/client-ip.js';

test('normalizeIp gives one spelling per address', () => {
  assert.equal(normalizeIp(' 203.0.113.7 '), '203.0.113.7');
  assert.equal(normalizeIp('203.0.113.7:5123'), '203.0.113.7');
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
  assert.equal(normalizeIp('[2001:DB8::1]:443'), '2001:db8::1');
  assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('unknown'), undefined);
  assert.equal(normalizeIp(''), undefined);
  assert.equal(normalizeIp('1.2.3.4.5'), undefined);
});

test('parseTrustedProxies takes IPs and CIDR ranges and refuses anything else', () => {
  const t = parseTrustedProxies('127.0.0.1, ::1 ,10.0.0.0/8');
  assert.equal(t.size, 3);
  assert.ok(t.has('127.0.0.1') && t.has('::ffff:127.0.0.1') && t.has('::1') && t.has('10.9.8.7'));
  assert.ok(!t.has('127.0.0.2') && !t.has('11.0.0.1') && !t.has('garbage'));
  assert.equal(parseTrustedProxies('').size, 0);
  assert.throws(() => parseTrustedProxies('localhost'), /not an IP/);
  assert.throws(() => parseTrustedProxies('10.0.0.0/33'), /prefix/);
  assert.throws(() => parseTrustedProxies('10.0.0.0/8/1'), /not an IP/);
  assert.equal(trustedProxiesSchema.safeParse('127.0.0.1,nope').success, false);
  assert.equal(trustedProxiesSchema.parse('').size, 0);
});

test('clientIp believes X-Forwarded-For only from trusted peers, from the right', () => {
  const none = parseTrustedProxies('');
  const local = parseTrustedProxies('127.0.0.1,::1');
  const chain = parseTrustedProxies('127.0.0.1,10.0.0.0/8');
  // Nobody trusted: a client cannot pick its own address.
  assert.equal(clientIp('127.0.0.1', '203.0.113.7', none), '127.0.0.1');
  // An untrusted peer's header is ignored.
  assert.equal(clientIp('198.51.100.1', '203.0.113.7', local), '198.51.100.1');
  // Behind the gateway: the entry the gateway appended.
  assert.equal(clientIp('::ffff:127.0.0.1', '203.0.113.7', local), '203.0.113.7');
  // A spoofed left part is skipped: the right-most untrusted entry wins.
  assert.equal(clientIp('127.0.0.1', '1.1.1.1, 203.0.113.7', local), '203.0.113.7');
  assert.equal(clientIp('127.0.0.1', ['1.1.1.1', '203.0.113.7, 10.1.2.3'], chain), '203.0.113.7');
  // Every hop trusted: the furthest one. No header: the peer.
  assert.equal(clientIp('127.0.0.1', '10.0.0.5, 10.1.1.1', chain), '10.0.0.5');
  assert.equal(clientIp('127.0.0.1', undefined, local), '127.0.0.1');
  assert.equal(clientIp('127.0.0.1', '', local), '127.0.0.1');
  // Garbage beyond a trusted hop: stop at the last address a trusted hop vouched for.
  assert.equal(clientIp('127.0.0.1', 'unknown, 10.0.0.9', chain), '10.0.0.9');
  assert.equal(clientIp('127.0.0.1', '[2001:db8::7]:1234', local), '2001:db8::7');
});
