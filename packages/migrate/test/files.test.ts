import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, splitStatements } from '../src/files.js';

test('loads up/down pairs in version order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mig-'));
  t.after(() => rm(dir, { recursive: true }));
  await writeFile(join(dir, '0002_b.up.sql'), 'B');
  await writeFile(join(dir, '0001_a.up.sql'), 'A');
  await writeFile(join(dir, '0001_a.down.sql'), 'a');
  await writeFile(join(dir, 'README.md'), 'ignored');
  const m = await loadMigrations(dir, 'sql');
  assert.deepEqual(m, [
    { version: 1, name: 'a', up: 'A', down: 'a' },
    { version: 2, name: 'b', up: 'B', down: undefined },
  ]);
});

test('rejects badly named files, duplicate versions and down without up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mig-'));
  t.after(() => rm(dir, { recursive: true }));
  await writeFile(join(dir, '1_bad.up.sql'), 'x');
  await assert.rejects(loadMigrations(dir, 'sql'), /does not match/);
  await rm(join(dir, '1_bad.up.sql'));
  await writeFile(join(dir, '0001_a.up.sql'), 'x');
  await writeFile(join(dir, '0001_b.up.sql'), 'y');
  await assert.rejects(loadMigrations(dir, 'sql'), /used by two names/);
  await rm(join(dir, '0001_a.up.sql'));
  await rm(join(dir, '0001_b.up.sql'));
  await writeFile(join(dir, '0003_c.down.sql'), 'z');
  await assert.rejects(loadMigrations(dir, 'sql'), /has no up file/);
});

test('splits statements on line-ending semicolons and drops comment lines', () => {
  const s = splitStatements('-- header\nCREATE TABLE a (x int);\n\nINSERT INTO a VALUES (1);\n-- trailing\n');
  assert.deepEqual(s, ['CREATE TABLE a (x int)', 'INSERT INTO a VALUES (1)']);
});
