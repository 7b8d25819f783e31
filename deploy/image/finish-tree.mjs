/* global process */
// Turns a tree that `tsc -p deploy/image/tsconfig.json` compiled in place into the one the image
// runs: every workspace's package.json points at the .js files instead of the .ts sources, and
// the TypeScript sources and test folders are removed. Plain JavaScript on purpose: it runs in
// the image's build stage before anything else could load TypeScript.
//
//   node deploy/image/finish-tree.mjs <tree>
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TEST_DIRS = new Set(['test', 'test-int', 'test-e2e']);

function toJs(value) {
  if (typeof value === 'string') return value.replace(/\.ts$/, '.js');
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJs(v)]));
  return value;
}

/** Removes .ts sources (their .js sits beside them) and test folders below `dir`. */
function prune(dir) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(p).isDirectory()) {
      if (TEST_DIRS.has(entry)) rmSync(p, { recursive: true, force: true });
      else prune(p);
    } else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) {
      const js = p.replace(/\.ts$/, '.js');
      if (!existsSync(js)) throw new Error(`${p} was not compiled (no ${js}): is it in deploy/image/tsconfig.json?`);
      rmSync(p);
    }
  }
}

const tree = process.argv[2];
if (!tree) throw new Error('usage: node deploy/image/finish-tree.mjs <tree>');
let rewritten = 0;
for (const base of ['packages', 'cmd']) {
  for (const name of readdirSync(join(tree, base))) {
    const dir = join(tree, base, name);
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    // test-support is a development package: the image keeps only its manifest (a workspace the lockfile names).
    if (manifest.name === '@parley/test-support') {
      for (const entry of readdirSync(dir)) if (entry !== 'package.json') rmSync(join(dir, entry), { recursive: true, force: true });
      continue;
    }
    if (manifest.exports) manifest.exports = toJs(manifest.exports);
    if (manifest.main) manifest.main = toJs(manifest.main);
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    rewritten += 1;
    prune(dir);
  }
}
process.stdout.write(`finish-tree: ${rewritten} workspace manifests point at JavaScript\n`);
