/**
 * The chart, rendered and linted by real Helm (helm-java's native library, fetched by Maven into
 * .cache/helm-java on first use), then every object checked: Kubernetes schemas (strict), each
 * container's environment against its process's config schema, probes, ports, grace periods.
 * A few broken values files show that each kind of mistake fails.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, REPO_ROOT, checkRenderedChart, managedEnv, runHelm, SERVICES, type HelmJob, type HelmResults } from '../src/index.js';

const PRODUCTION = join(REPO_ROOT, 'deploy/helm/examples/production.yaml');
const BROKEN: Record<string, string> = {
  'no-hook': 'migrations: { hook: false }\n',
  'typo-variable': 'services:\n  chat-realtime-svc:\n    env: { REALTIME_SENDS_PER_USR: 10 }\n',
  'typo-key': 'services:\n  chat-realtime-svc:\n    replicass: 3\n',
  'managed-variable': 'services:\n  chat-ingestion-svc:\n    env: { KAFKA_TOPIC: other }\n',
  'bad-value': 'services:\n  chat-realtime-svc:\n    env: { REALTIME_SENDS_PER_USER: lots }\n',
  'missing-secret': 'secrets:\n  keys:\n    NATS_URL: null\n',
};

let helm: HelmResults;
const render = (name: string): string => {
  const r = helm.renders.get(name);
  assert.ok(r?.yaml !== undefined, `${name} did not render: ${r?.error ?? 'missing'}`);
  return r.yaml;
};

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-values-'));
  try {
    const jobs: HelmJob[] = [
      { kind: 'lint' },
      { kind: 'template', name: 'default', values: [] },
      { kind: 'template', name: 'production', values: [PRODUCTION] },
      { kind: 'template', name: 'production-no-hook', values: [PRODUCTION, join(dir, 'no-hook.yaml')] },
    ];
    for (const [name, text] of Object.entries(BROKEN)) {
      writeFileSync(join(dir, `${name}.yaml`), text);
      if (name !== 'no-hook') jobs.push({ kind: 'template', name, values: [join(dir, `${name}.yaml`)] });
    }
    jobs.push({ kind: 'template', name: 'default-no-hook', values: [join(dir, 'no-hook.yaml')] });
    helm = await runHelm(jobs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helm lint --strict passes', (t) => {
  t.diagnostic(`one JVM, lint + ${helm.renders.size} renders: ${Math.round(helm.ms)} ms`);
  assert.ok(helm.lint, 'lint ran');
  assert.equal(helm.lint.failed, false, helm.lint.messages.join('\n'));
  assert.deepEqual(helm.lint.messages.filter((m) => !m.startsWith('[INFO]')), []);
});

for (const name of ['default', 'default-no-hook', 'production', 'production-no-hook']) {
  test(`${name} values: every object is valid Kubernetes and every container's environment fits its config schema`, async () => {
    const { objects, envs, problems } = await checkRenderedChart(render(name));
    assert.deepEqual(problems, []);
    const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.labels?.['app.kubernetes.io/component']);
    assert.deepEqual(deployments.sort(), [...SERVICES].sort(), 'a Deployment per service');
    assert.equal(objects.filter((o) => o.kind === 'PodDisruptionBudget').length, SERVICES.length);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name);
    for (const svc of ['chat-realtime-svc', 'chat-query-svc']) assert.ok(hpas.includes(`parley-${svc}`), `an autoscaler for ${svc}`);
    const jobs = envs.filter((e) => e.process === 'migrations');
    assert.equal(jobs.length, name.endsWith('no-hook') ? 4 : 0, 'the migrations Job (helm-java leaves hooks out of a render)');
  });
}

test('the chart sets exactly the variables the checker says it manages, and the edge drains within its grace period', async () => {
  const { objects, envs } = await checkRenderedChart(render('default'));
  for (const e of envs) {
    const literal = e.env.filter((v) => v.value !== undefined).map((v) => v.name).sort();
    assert.deepEqual(literal, managedEnv(e.process), e.where);
  }
  const edge = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'parley-chat-realtime-svc')!;
  const pod = (edge['spec'] as { template: { spec: { terminationGracePeriodSeconds: number } } }).template.spec;
  const shutdown = envs.find((e) => e.process === 'chat-realtime-svc')!.env.find((v) => v.name === 'SHUTDOWN_TIMEOUT_MS')!.value;
  assert.equal(shutdown, '20000');
  assert.equal(pod.terminationGracePeriodSeconds, 5 + 20 + 5, 'preStop sleep + SHUTDOWN_TIMEOUT_MS + 5 s');
});

test('values Helm refuses: a misspelt variable, a misspelt key, a variable the chart manages', () => {
  const refused = (name: string, pattern: RegExp) => {
    const r = helm.renders.get(name);
    assert.ok(r?.error, `${name} should not render`);
    assert.match(r.error, pattern, `${name}: ${r.error}`);
  };
  refused('typo-variable', /REALTIME_SENDS_PER_USR/);
  refused('typo-key', /replicass/);
  refused('managed-variable', /KAFKA_TOPIC/);
});

test('values Helm renders but the cross-check refuses: a value the config schema rejects, a secret no longer given', async () => {
  const bad = (await checkRenderedChart(render('bad-value'))).problems;
  assert.deepEqual(bad, ['Deployment/parley-chat-realtime-svc container chat-realtime-svc: REALTIME_SENDS_PER_USER = "lots" is invalid for chat-realtime-svc: Invalid input: expected number, received NaN']);
  const missing = (await checkRenderedChart(render('missing-secret'))).problems.join('\n');
  assert.match(missing, /container chat-realtime-svc: NATS_URL is required by chat-realtime-svc and not set/);
  assert.match(missing, /container user-svc: NATS_URL is required by user-svc and not set/);
});

test('a rendered manifest with a renamed variable, a short grace period or an unknown field fails', async () => {
  const yaml = render('default');
  const renamed = (await checkRenderedChart(yaml.replace('- name: REALTIME_PORT\n', '- name: REALTIME_PROT\n'))).problems.join('\n');
  assert.match(renamed, /REALTIME_PROT is not a variable of chat-realtime-svc \(did you mean REALTIME_PORT\?\)/);
  assert.match(renamed, /containerPort 8003 \(ws\) is opened by none of its \*_PORT variables/);
  const short = (await checkRenderedChart(yaml.replace('terminationGracePeriodSeconds: 30', 'terminationGracePeriodSeconds: 12'))).problems.join('\n');
  assert.match(short, /parley-chat-realtime-svc container chat-realtime-svc: terminationGracePeriodSeconds 12 does not cover/);
  const unknown = (await checkRenderedChart(yaml.replace(/readinessProbe:/, 'readinesProbe:'))).problems.join('\n');
  assert.match(unknown, /unknown field "readinesProbe"/);
  assert.match(unknown, /has no readinessProbe/);
});

test('the chart renders from its own directory only (nothing outside deploy/helm/parley)', () => {
  assert.ok(CHART_DIR.endsWith('deploy/helm/parley'));
});
