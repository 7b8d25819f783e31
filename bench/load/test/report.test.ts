import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goalLines, renderReport, type TargetResult } from '../report.js';

const other = (output: string) => ({ name: 'x', command: 'node x', seconds: 1, status: 'ok', output });

test('goal rows are read from the scripts\' output; a broken or foreign line is skipped', () => {
  const lines = goalLines([
    other('{"phase":"step"}\n{"phase":"goal","goal":6,"title":"Reads","measured":"p99 3 ms","met":true,"why":"w"}\n{"phase":"goal","goal":7,'),
    other('noise\n{"phase":"goal","goal":3,"title":"Rooms","measured":"m","met":false,"why":"y"}'),
  ]);
  assert.deepEqual(lines.map((l) => [l.goal, l.met]), [[6, true], [3, false]]);
});

test('the report has one row per goal: measured ones with their verdict, the rest open', () => {
  const doc = renderReport(
    { date: 'd', command: 'c', nproc: 2, memGiB: 24, node: 'v20', cpuModel: 'cpu', workload: { clients: 10, rooms: 1, rate: 10, seconds: 1, bodyBytes: 10, idleConns: 1, workers: 1, satSeconds: 1, satMax: 10, satFactor: 1.5 }, loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], durationS: 1 },
    [] as TargetResult[],
    [],
    [other('{"phase":"goal","goal":6,"title":"Reads","measured":"gRPC p99 3 ms","met":true,"why":"because"}')],
  );
  const rows = doc.split('\n').filter((l) => /^\| [1-7]\. /.test(l));
  assert.equal(rows.length, 7);
  assert.match(rows[5]!, /gRPC p99 3 ms \| met \| because/);
  assert.match(rows[0]!, /\*\*open\*\*/);
});
