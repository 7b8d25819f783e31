import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignClients, bodyOfFrame, dueBy, generatorBound, keptUp, makeBody, saturationRates, sentAtOf, shareOf } from '../plan.js';

test('a room never spans two workers and every client is placed once', () => {
  const plan = assignClients(1000, 100, 2);
  assert.equal(plan.flat().length, 1000);
  assert.deepEqual(new Set(plan.flat().map((s) => s.client)).size, 1000);
  const roomsOf = plan.map((slots) => new Set(slots.map((s) => s.room)));
  for (const r of roomsOf[0]!) assert.ok(!roomsOf[1]!.has(r), `room ${r} in both workers`);
  assert.equal(plan[0]!.filter((s) => s.room === 0).length, 10);
  assert.throws(() => assignClients(10, 0, 1), RangeError);
});

test('the send schedule is linear in time and capped at the total', () => {
  assert.equal(dueBy(1000, 0, 5000), 0);
  assert.equal(dueBy(1000, 1500, 5000), 1500);
  assert.equal(dueBy(1000, 60_000, 5000), 5000);
  assert.equal(shareOf(1000, 500, 1000), 500);
  assert.equal(shareOf(1000, 0, 0), 0);
});

test('the saturation ladder grows by its factor up to the maximum', () => {
  assert.deepEqual(saturationRates(1000, 8000, 2), [1000, 2000, 4000, 8000]);
  assert.deepEqual(saturationRates(1500, 5100), [1500, 2300, 3400, 5100]);
  assert.throws(() => saturationRates(1000, 2000, 1), RangeError);
});

test('a step keeps up only with (nearly) every delivery and a bounded p99', () => {
  const base = { targetRate: 1000, sentRate: 1000, expected: 10_000, delivered: 10_000, p99Ms: 20 };
  assert.ok(keptUp(base));
  assert.ok(!keptUp({ ...base, delivered: 9_800 }));
  assert.ok(!keptUp({ ...base, p99Ms: 800 }));
  assert.ok(!keptUp({ ...base, expected: 0, delivered: 0 }));
  assert.ok(generatorBound({ ...base, sentRate: 800 }));
});

test('bodies carry the send time and are found in every peer\'s frame', () => {
  const body = makeBody(12345.678, 100);
  assert.equal(body.length, 100);
  assert.equal(sentAtOf(body), 12345.678);
  const frame = JSON.stringify({ type: 'message', message: { id: '1', room_id: 'r', sender_name: 'a', body, created_at: 'x' } });
  assert.equal(bodyOfFrame(frame), body);
  assert.equal(bodyOfFrame('{"type":"message"}'), undefined);
});
