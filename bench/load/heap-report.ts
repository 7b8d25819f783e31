/**
 * Preloaded into a server under test (`node --import ./bench/load/heap-report.ts …`, or through
 * NODE_OPTIONS for a peer started by servers.ts) so every server's heap is read the same way,
 * from inside: on SIGUSR2 it collects (full GC) and writes, as one JSON object, RSS, the V8
 * heap's used and committed bytes and the external memory to BENCH_HEAP_DIR/<pid>.json.
 *
 * BENCH_HEAP_SNAPSHOTS=1 also writes a heap snapshot per report (slow at many sockets).
 * The collection needs no --expose-gc on the command line: the flag is set at run time and the
 * `gc` function taken from a fresh context. Bench-only: signals are a harness concern here.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

const dir = process.env['BENCH_HEAP_DIR'];
/** Also write a heap snapshot (<pid>-<seq>.heapsnapshot) at every report: bench/load/heap-diff.ts compares two. */
const snapshots = process.env['BENCH_HEAP_SNAPSHOTS'] === '1';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export interface HeapReport {
  seq: number;
  rss_bytes: number;
  heap_used_bytes: number;
  heap_total_bytes: number;
  external_bytes: number;
  array_buffers_bytes: number;
  malloced_bytes: number;
  /** RSS by kind of mapping (/proc/self/smaps): malloc's main arena, anonymous maps (V8's pages, other arenas, thread stacks), files. */
  rss_brk_bytes: number;
  rss_anon_bytes: number;
  rss_file_bytes: number;
}

function rssByMapping(): { brk: number; anon: number; file: number } {
  const out = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof out = 'anon';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!;
      kind = path === '[heap]' ? 'brk' : path === '' || path.startsWith('[') ? 'anon' : 'file';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

let seq = 0;
if (dir) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const m = process.memoryUsage();
    const h = getHeapStatistics();
    const maps = rssByMapping();
    const byMapping = { rss_brk_bytes: maps.brk, rss_anon_bytes: maps.anon, rss_file_bytes: maps.file };
    seq += 1;
    const report: HeapReport = { seq, rss_bytes: m.rss, heap_used_bytes: m.heapUsed, heap_total_bytes: m.heapTotal, external_bytes: m.external, array_buffers_bytes: m.arrayBuffers, malloced_bytes: h.malloced_memory, ...byMapping };
    if (snapshots) writeHeapSnapshot(join(dir, `${process.pid}-${seq}.heapsnapshot`));
    const file = join(dir, `${process.pid}.json`);
    // A reader polling for the file never sees half of it.
    writeFileSync(`${file}.tmp`, JSON.stringify(report));
    renameSync(`${file}.tmp`, file);
  });
}
