import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIp, normalizeIp, parseTrustedProxies, proxySecretSchema, requireProxySecret, trustedProxiesSchema } from '../src/client-ip.js';

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

test('with a proxy secret, a trusted address alone does not make a proxy', () => {
  const secret = 'b3f1c0d9e8a7f6e5d4c3b2a1';
  const local = requireProxySecret(parseTrustedProxies('127.0.0.1,::1'), secret);
  // A client on the proxy's host forging the header: counted under its own address.
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local), '127.0.0.1');
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, ''), '127.0.0.1');
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, 'not the secret at all'), '127.0.0.1');
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, `${secret}x`), '127.0.0.1', 'a longer value is not the secret');
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, secret.slice(0, -1)), '127.0.0.1', 'nor a prefix');
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, [secret, secret]), '127.0.0.1', 'two copies are not one proof');
  // The proxy, with the secret: the address it forwards.
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', local, secret), '198.51.100.77');
  assert.equal(clientIp('::ffff:127.0.0.1', '198.51.100.77', local, secret), '198.51.100.77');
  // The secret never makes an untrusted address a proxy.
  assert.equal(clientIp('203.0.113.50', '198.51.100.77', local, secret), '203.0.113.50');
  // Hops further left are still judged by address only: the secret proves the direct peer.
  const chain = requireProxySecret(parseTrustedProxies('127.0.0.1,10.0.0.0/8'), secret);
  assert.equal(clientIp('127.0.0.1', '198.51.100.77, 10.1.2.3', chain, secret), '198.51.100.77');
  assert.equal(chain.size, 2);
  assert.ok(chain.has('10.9.9.9') && !chain.has('11.0.0.1'));
});

test('without a proxy secret the address check stands alone, and the secret is validated', () => {
  const plain = parseTrustedProxies('127.0.0.1');
  assert.equal(requireProxySecret(plain, ''), plain);
  assert.equal(clientIp('127.0.0.1', '198.51.100.77', plain), '198.51.100.77');
  assert.equal(proxySecretSchema.parse(''), '');
  assert.equal(proxySecretSchema.parse('0123456789abcdef'), '0123456789abcdef');
  for (const bad of ['short', 'has a space in it ok', 'line\nbreak-0123456789', 'é'.repeat(20), 'x'.repeat(257)]) {
    assert.equal(proxySecretSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
