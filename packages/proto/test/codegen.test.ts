import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { userV1, roomV1, toGrpcError, fromGrpcError } from '../src/index.js';
import { ParleyError } from '@parley/errors';
import { status } from '@grpc/grpc-js';

const pkg = fileURLToPath(new URL('../', import.meta.url));
const bin = fileURLToPath(new URL('../../../node_modules/.bin/', import.meta.url));

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}

test('buf + ts-proto from node_modules regenerate exactly the committed code, offline', async () => {
  const out = await mkdtemp(join(tmpdir(), 'parley-proto-'));
  try {
    const template = (await readFile(join(pkg, 'buf.gen.yaml'), 'utf8'))
      .replace('../../node_modules/.bin/protoc-gen-ts_proto', join(bin, 'protoc-gen-ts_proto'))
      .replace('out: src/gen', `out: ${out}`);
    const templatePath = join(out, 'buf.gen.yaml');
    await writeFile(templatePath, template);
    await promisify(execFile)(join(bin, 'buf'), ['generate', '--template', templatePath], { cwd: pkg, env: { ...process.env, BUF_CACHE_DIR: join(out, '.cache') } });
    const committed = await listFiles(join(pkg, 'src/gen'));
    const fresh = (await listFiles(out)).filter((f) => f.endsWith('.ts'));
    assert.deepEqual(fresh, committed);
    for (const f of committed) {
      assert.equal(await readFile(join(out, f), 'utf8'), await readFile(join(pkg, 'src/gen', f), 'utf8'), `${f} is stale: run make proto`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('generated messages round-trip', () => {
  const msg = { user: { id: 'u1', username: 'alice', displayName: 'Alice 🦊' }, cacheUntilMs: 1_700_000_000_000, expiresAtMs: 1_700_000_600_000 };
  assert.deepEqual(userV1.ValidateSessionResponse.decode(userV1.ValidateSessionResponse.encode(msg).finish()), msg);
  const u = { user: { id: 'u2', username: 'bob', displayName: 'Bob' } };
  assert.deepEqual(userV1.GetUserResponse.decode(userV1.GetUserResponse.encode(u).finish()), u);
  assert.deepEqual(userV1.GetUserRequest.decode(userV1.GetUserRequest.encode({ userId: 'u2' }).finish()), { userId: 'u2' });
  const m = { member: true, role: 'owner' };
  assert.deepEqual(roomV1.CheckMembershipResponse.decode(roomV1.CheckMembershipResponse.encode(m).finish()), m);
});

test('ParleyError codes map to gRPC status and back', () => {
  const e = toGrpcError(new ParleyError('NOT_FOUND', 'room not found'));
  assert.equal(e.code, status.NOT_FOUND);
  assert.equal(fromGrpcError(e, 'room-svc').code, 'NOT_FOUND');
  const internal = toGrpcError(new Error('password=hunter2'));
  assert.equal(internal.code, status.INTERNAL);
  assert.equal(internal.details, 'internal error');
  const down = fromGrpcError(Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'connect ECONNREFUSED' }), 'user-svc');
  assert.equal(down.code, 'DEPENDENCY_UNAVAILABLE');
  assert.equal(down.canRetry, true);
});
