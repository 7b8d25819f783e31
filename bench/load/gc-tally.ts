/**
 * Preloaded into a server under test (`node --import tsx --import ./bench/load/gc-tally.ts …`)
 * to count the garbage it makes, from inside: every collection's used heap before minus after,
 * summed. A benchmark reads the tally around a run and divides by the work done; with a forced
 * full collection at both ends of the window, the difference is every byte that became garbage
 * in between (objects still alive at the end show up as heap growth instead).
 *
 * On SIGUSR2 the tally so far is written, as one JSON object, to BENCH_GC_TALLY_FILE. When
 * BENCH_HEAP_PROFILE_FILE is set too, the first SIGUSR2 also starts the V8 sampling heap
 * profiler (keeping objects that minor and major collections already freed, so short-lived
 * garbage is attributed to the code that allocated it) and the second writes its profile
 * there (a .heapprofile: Chrome DevTools' Memory tab loads it; bench/join-churn.ts sums it).
 *
 * Bench-only: signals are a harness concern here, not the service's.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { GCProfiler } from 'node:v8';

const tallyFile = process.env['BENCH_GC_TALLY_FILE'];
const profileFile = process.env['BENCH_HEAP_PROFILE_FILE'];
/** Bytes between samples: small enough to see a few hundred bytes per join over thousands of joins. */
const SAMPLING_INTERVAL = 4096;

let profiler = new GCProfiler();
profiler.start();
const tally = { seq: 0, gcs: 0, scavenges: 0, collected_bytes: 0, heap_used_bytes: 0 };

/** GCProfiler hands its records over only on stop, so it is restarted at every read. */
function drain(): void {
  const { statistics } = profiler.stop();
  profiler = new GCProfiler();
  profiler.start();
  for (const s of statistics) {
    tally.gcs += 1;
    if (s.gcType === 'Scavenge') tally.scavenges += 1;
    tally.collected_bytes += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  }
}

/** A reader polling for the file never sees half of it. */
function writeWhole(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

let session: Session | undefined;
let sampling: 'idle' | 'running' | 'written' = 'idle';

async function stepProfile(): Promise<void> {
  if (!profileFile || sampling === 'written') return;
  if (sampling === 'idle') {
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    sampling = 'running';
    return;
  }
  const { profile } = await session!.post('HeapProfiler.stopSampling');
  writeWhole(profileFile, JSON.stringify(profile));
  session!.disconnect();
  sampling = 'written';
}

if (tallyFile) {
  process.on('SIGUSR2', () => {
    // The tally first: the profile's own JSON must not count as garbage of the window.
    drain();
    tally.seq += 1;
    tally.heap_used_bytes = process.memoryUsage().heapUsed;
    writeWhole(tallyFile, JSON.stringify(tally));
    void stepProfile();
  });
}
