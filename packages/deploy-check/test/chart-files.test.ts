import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { generatedChartFiles, HEALTH_PORTS, managedEnv, PROCESS_SPECS, processOfCommand, REPO_ROOT, SERVICES, SHARED_ENV } from '../src/index.js';

test('the chart files generated from the config schemas are current (else: make helm-schema)', () => {
  for (const [path, text] of Object.entries(generatedChartFiles())) {
    assert.equal(readFileSync(path, 'utf8'), text, `${relative(REPO_ROOT, path)} is stale: a config schema changed; run make helm-schema and commit it`);
  }
});

test('every variable the chart manages is one some config schema has', () => {
  const all = new Set(Object.values(PROCESS_SPECS).flatMap((s) => Object.values(s).map((f) => f.env)));
  for (const name of SHARED_ENV) assert.ok(all.has(name), `${name} is in no config schema`);
  for (const p of Object.keys(PROCESS_SPECS)) {
    const known = Object.values(PROCESS_SPECS[p]!).map((f) => f.env);
    for (const name of managedEnv(p)) assert.ok(known.includes(name), `${p} has no ${name}`);
  }
});

test("the image's health check knows every service's port variable and its default", () => {
  for (const svc of SERVICES) {
    const where = HEALTH_PORTS[svc];
    assert.ok(where && typeof where !== 'string', `deploy/image/health-ports.json has no ${svc}`);
    const field = Object.values(PROCESS_SPECS[svc]!).find((f) => f.env === where.env);
    assert.ok(field, `${svc} has no ${where.env}`);
    assert.equal(String(where.default), field.default, `${svc} ${where.env} default`);
  }
});

test('a container command names its process', () => {
  assert.equal(processOfCommand(['cmd/user-svc/main.js']), 'user-svc');
  assert.equal(processOfCommand(['node', '/app/cmd/chat-realtime-svc/main.js']), 'chat-realtime-svc');
  assert.equal(processOfCommand(['scripts/migrate.js', 'cql', 'up']), 'migrations');
  assert.equal(processOfCommand(['cmd/parley-cli/main.js']), undefined);
});

test('the Dockerfile: pinned base, non-root, health check from /healthz, compiled JavaScript, no dev dependencies', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const buildTree = readFileSync(join(REPO_ROOT, 'deploy/image/build-tree.sh'), 'utf8');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m, 'base image pinned to an exact Node version');
  assert.match(dockerfile, /^USER node$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*deploy\/image\/healthcheck\.mjs/m);
  assert.match(dockerfile, /^RUN .*deploy\/image\/build-tree\.sh \/app$/m);
  assert.match(buildTree, /npm ci --omit=dev/);
  assert.match(buildTree, /tsc -p deploy\/image\/tsconfig\.json/);
  assert.match(readFileSync(join(REPO_ROOT, 'deploy/image/healthcheck.mjs'), 'utf8'), /path: '\/healthz'/);
});

test("compose's Prometheus scrapes every service where it serves /metrics", () => {
  const config = parse(readFileSync(join(REPO_ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { environment?: Record<string, unknown> }> };
  assert.deepEqual(config.scrape_configs.map((j) => j.job_name).sort(), [...SERVICES].sort());
  for (const job of config.scrape_configs) {
    const where = HEALTH_PORTS[job.job_name];
    assert.ok(where && typeof where !== 'string');
    const port = compose.services[job.job_name]?.environment?.[where.env] ?? where.default;
    assert.deepEqual(job.static_configs[0]?.targets, [`${job.job_name}:${String(port)}`]);
  }
});
