import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('../../infra/prometheus/', import.meta.url));
const PROMTOOL = process.env['PROMTOOL_BIN'] || 'promtool';

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: dir });
    return stdout + stderr;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: run scripts/ensure-prometheus.sh');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

test("make up's Prometheus configuration and its alert rules are valid", async () => {
  assert.match(await promtool('check', 'config', 'prometheus.yml'), /SUCCESS/);
  assert.match(await promtool('check', 'rules', 'alerts.yml'), /SUCCESS: 7 rules found/);
});

test('the alert rules fire as their unit tests say (promtool test rules)', async () => {
  assert.match(await promtool('test', 'rules', 'alerts.test.yml'), /SUCCESS/);
});

test('every alert has a unit test and every service a scrape job', async () => {
  const rules = await readFile(`${dir}alerts.yml`, 'utf8');
  const tests = await readFile(`${dir}alerts.test.yml`, 'utf8');
  const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  for (const a of alerts) assert.match(tests, new RegExp(`alertname: ${a}\\b`), `${a} has no promtool test`);
  const config = await readFile(`${dir}prometheus.yml`, 'utf8');
  const makefile = await readFile(fileURLToPath(new URL('../../Makefile', import.meta.url)), 'utf8');
  const services = /^SERVICES := (.+)$/m.exec(makefile)![1]!.trim().split(/\s+/);
  for (const s of services) assert.match(config, new RegExp(`job_name: ${s}\\n`), `${s} is not scraped`);
});
