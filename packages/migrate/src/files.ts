import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A migration is a pair of files `NNNN_name.up.<ext>` / `NNNN_name.down.<ext>` in one folder.
 * Versions are the leading number; gaps are fine, duplicates are an error.
 */
export interface MigrationFile {
  version: number;
  name: string;
  up: string;
  down: string | undefined;
}

const FILE_RE = /^(\d{4,})_([a-z0-9_]+)\.(up|down)\.([a-z]+)$/;

export async function loadMigrations(dir: string, ext: string): Promise<MigrationFile[]> {
  const entries = (await readdir(dir)).filter((f) => f.endsWith(`.${ext}`)).sort();
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of entries) {
    const m = FILE_RE.exec(file);
    if (!m) throw new Error(`migration file ${join(dir, file)} does not match NNNN_name.(up|down).${ext}`);
    const version = Number(m[1]);
    const name = m[2]!;
    const kind = m[3] as 'up' | 'down';
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) throw new Error(`migration version ${version} is used by two names: ${entry.name}, ${name}`);
    if (entry[kind] !== undefined) throw new Error(`migration ${version} has two ${kind} files`);
    entry[kind] = await readFile(join(dir, file), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, e]) => {
      if (e.up === undefined) throw new Error(`migration ${version}_${e.name} has no up file`);
      return { version, name: e.name, up: e.up, down: e.down };
    });
}

/**
 * Splits a script into statements on `;` at line ends. Good enough for our own DDL files, which
 * keep one statement per `;`-terminated block and never put `;` at a line end inside a string.
 */
export function splitStatements(script: string): string[] {
  return script
    .split(/;\s*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

export interface MigrationResult {
  applied: Array<{ version: number; name: string }>;
  current: number;
}
