/**
 * Every import is declared by the package that makes it: for each workspace (packages/*, cmd/*)
 * and for the root (bench/, e2e/, scripts/, web/), the bare imports of its files must be in its
 * package.json, runtime imports in `dependencies` and imports made only by tests in
 * `devDependencies` (or `dependencies`), and nothing may be declared that nothing imports.
 * Run by `make check`; exits 1 with one line per problem.
 *
 *   node --import tsx scripts/check-deps.ts
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SOURCE = /\.(ts|tsx|js|mjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.infra', '.run']);
const TEST_DIR = /(^|\/)(test|test-int|test-e2e)\//;
/** Imported by tools, not by code: declared for their command lines and configs. */
const TOOLING = new Set(['typescript', 'tsx', 'eslint', '@eslint/js', 'typescript-eslint', '@types/node', '@types/pg', '@types/ws', '@bufbuild/buf', 'ts-proto', 'vite', '@preact/preset-vite']);
const BUILTIN = new Set(builtinModules);

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  workspaces?: string[];
}

function files(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) files(p, out);
    else if (SOURCE.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The packages a file imports (static, dynamic and type imports; `export ... from` too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec || spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (BUILTIN.has(name)) continue;
    found.push(name);
  }
  return found;
}

function check(dir: string, manifest: Manifest, sources: string[], problems: string[]): void {
  const deps = new Set(Object.keys(manifest.dependencies ?? {}));
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
  const used = new Set<string>();
  const where = relative(ROOT, dir) || '(root)';
  for (const file of sources) {
    const isTest = TEST_DIR.test(relative(dir, file)) || relative(ROOT, file).startsWith('bench/');
    for (const name of importsOf(file)) {
      if (name === manifest.name) continue;
      used.add(name);
      if (deps.has(name)) continue;
      if (dev.has(name) && (isTest || TOOLING.has(name))) continue;
      const rel = relative(ROOT, file);
      problems.push(dev.has(name) ? `${rel}: runtime import of ${name}, which ${where} declares only as a devDependency` : `${rel}: imports ${name}, which ${where}/package.json does not declare`);
    }
  }
  for (const name of [...deps, ...dev]) {
    if (!used.has(name) && !TOOLING.has(name)) problems.push(`${where}/package.json declares ${name}, which nothing there imports`);
  }
}

const problems: string[] = [];
const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const workspaceDirs: string[] = [];
for (const pattern of root.workspaces ?? []) {
  const base = join(ROOT, pattern.replace(/\/\*$/, ''));
  for (const entry of existsSync(base) ? readdirSync(base) : []) {
    const dir = join(base, entry);
    if (existsSync(join(dir, 'package.json'))) workspaceDirs.push(dir);
  }
}
for (const dir of workspaceDirs) {
  check(dir, JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest, files(dir), problems);
}
const owned = (f: string) => workspaceDirs.some((d) => f.startsWith(`${d}/`));
const rootSources = ['bench', 'e2e', 'scripts', 'web', 'cmd'].flatMap((d) => files(join(ROOT, d))).filter((f) => !owned(f));
rootSources.push(...files(ROOT).filter((f) => !f.slice(ROOT.length).includes('/') && SOURCE.test(f)));
check(ROOT, root, rootSources, problems);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} dependency problem(s): declare each import in the package.json of the package that makes it`);
  process.exit(1);
}
console.log(`dependencies: ${workspaceDirs.length} workspaces and the root declare what they import`);
