/**
 * What grew between two V8 heap snapshots (.heapsnapshot, e.g. from heap-report.ts with
 * BENCH_HEAP_SNAPSHOTS=1), summed by node type and constructor/name: self bytes and counts,
 * largest growth first, and per unit when a divisor (the sockets opened between) is given.
 *
 *   node --import tsx bench/load/heap-diff.ts before.heapsnapshot after.heapsnapshot [sockets] [top]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function tally(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = s.snapshot.meta.node_fields;
  const width = f.length;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!]!;
    // Strings and numbers are grouped by type only: their names are their contents.
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' ? '' : s.strings[s.nodes[i + iName]!]!.slice(0, 60);
    const key = `${type} ${name}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += s.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const [a, b, per = '1', top = '30'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [sockets] [top]');
const before = tally(a);
const after = tally(b);
const unit = Number(per);
const rows = [...after].map(([k, v]) => {
  const was = before.get(k) ?? { count: 0, bytes: 0 };
  return { k, count: v.count - was.count, bytes: v.bytes - was.bytes };
});
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((s, r) => s + r.bytes, 0);
console.log(`total growth ${total} bytes, ${Math.round(total / unit)} per unit (${unit})`);
for (const r of rows.slice(0, Number(top))) console.log(`${String(Math.round(r.bytes / unit)).padStart(7)} B/unit ${(r.count / unit).toFixed(2).padStart(7)} /unit  ${r.k}`);
