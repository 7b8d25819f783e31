import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECURITY_HEADERS, StaticFiles } from '../src/static-files.js';

async function serving(root: string, t: { after(fn: () => unknown): void }): Promise<string> {
  const files = new StaticFiles(root);
  const server = http.createServer((req, res) => void files.serve(req, res).then((done) => done || res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const addr = server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

test('the built page: index revalidated, hashed assets cached for good, the CSP on both', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'parley-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><script type="module" src="/assets/index-CrD7Hulm.js"></script>');
  writeFileSync(join(root, 'assets', 'index-CrD7Hulm.js'), 'export {};'.repeat(100));
  writeFileSync(join(root, 'plain.js'), 'export {};');
  const base = await serving(root, t);
  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.equal(index.headers.get('content-security-policy'), SECURITY_HEADERS['content-security-policy']);
  const asset = await fetch(`${base}/assets/index-CrD7Hulm.js`);
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(asset.headers.get('content-security-policy'), SECURITY_HEADERS['content-security-policy']);
  assert.equal((await fetch(`${base}/plain.js`)).headers.get('cache-control'), 'no-cache', 'an unhashed name may change content');
});

test('a checkout without a build says how to make one', async (t) => {
  const base = await serving(mkdtempSync(join(tmpdir(), 'parley-web-')), t);
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /make web/);
  assert.equal((await fetch(`${base}/assets/x-12345678.js`)).status, 404);
});
