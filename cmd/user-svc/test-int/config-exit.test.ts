import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('an invalid env value stops user-svc with a non-zero exit naming the variable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/user-svc/main.ts'], {
    cwd: root,
    env: { ...process.env, USER_HTTP_PORT: 'abc', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.equal(code, 78);
  assert.match(stderr, /USER_HTTP_PORT \(httpPort\) = "abc" is invalid/);
});
