import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = join(REPO_ROOT, 'deploy/helm/parley');
const HELM_JAVA = fileURLToPath(new URL('../helm-java/', import.meta.url));
/** Git-ignored, like .infra/: the jars (~32 MB) are fetched once from Maven Central and kept. */
export const HELM_CACHE = join(REPO_ROOT, '.cache/helm-java');
/** The Kubernetes version the chart is rendered for (Capabilities.KubeVersion). */
export const KUBE_VERSION = '1.30.0';

/**
 * The helm-java jars (Helm's Go code as a native library) in the cache, resolved with Maven from
 * helm-java/pom.xml when missing or when the pom changed. A resolution goes to a private folder
 * renamed into place, so two test files starting together never see half a download.
 */
export async function ensureHelmJars(): Promise<string> {
  const pom = join(HELM_JAVA, 'pom.xml');
  const sum = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const lib = join(HELM_CACHE, 'lib');
  const marker = join(lib, '.complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === sum) return lib;
  mkdirSync(HELM_CACHE, { recursive: true });
  const staging = join(HELM_CACHE, `lib.${process.pid}.${Date.now()}`);
  const args = ['-B', '-q', '-Dstyle.color=never', '-s', join(REPO_ROOT, 'infra/maven-settings.xml'), '-f', pom, 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`];
  try {
    await run('mvn', args, { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const e = err as { stdout?: string; message: string };
    throw new Error(`Maven could not resolve ${pom}: ${e.message}\n${(e.stdout ?? '').split('\n').slice(-30).join('\n')}`);
  }
  writeFileSync(join(staging, '.complete'), `${sum}\n`);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === sum) {
    rmSync(staging, { recursive: true, force: true });
  } else {
    rmSync(lib, { recursive: true, force: true });
    renameSync(staging, lib);
  }
  return lib;
}

export type HelmJob = { kind: 'lint' } | { kind: 'template'; name: string; values: readonly string[] };

export interface HelmResults {
  /** `helm lint --strict` of the chart (its default values). */
  lint?: { failed: boolean; messages: string[] };
  /** Each render: the YAML, or Helm's error (a failing values schema, a `fail` in a template). */
  renders: Map<string, { yaml?: string; error?: string }>;
  /** Wall time of the one JVM that ran every job. */
  ms: number;
}

/** Runs the jobs with real Helm in one JVM (packages/deploy-check/helm-java/HelmRun.java). */
export async function runHelm(jobs: readonly HelmJob[], chart = CHART_DIR): Promise<HelmResults> {
  const lib = await ensureHelmJars();
  const out = mkdtempSync(join(tmpdir(), 'parley-helm-'));
  try {
    const args = jobs.map((j) => (j.kind === 'lint' ? 'lint' : `template:${j.name}:${j.values.join(',')}`));
    const t0 = performance.now();
    await run('java', ['-cp', `${lib}/*`, join(HELM_JAVA, 'HelmRun.java'), chart, out, KUBE_VERSION, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    const ms = performance.now() - t0;
    const renders = new Map<string, { yaml?: string; error?: string }>();
    let lint: HelmResults['lint'];
    for (const file of readdirSync(out)) {
      const text = readFileSync(join(out, file), 'utf8');
      if (file === 'lint.txt') {
        const [first, ...messages] = text.split('\n').filter((l) => l.length > 0);
        lint = { failed: first !== 'failed=false', messages };
      } else if (file.endsWith('.yaml')) {
        renders.set(file.slice(0, -5), { yaml: text });
      } else if (file.endsWith('.error')) {
        renders.set(file.slice(0, -6), { error: text });
      }
    }
    return { renders, ms, ...(lint ? { lint } : {}) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
