import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventSubject, eventStreamSubjects } from '../src/events.js';

test('room events live under the events prefix, never on chat message subjects', () => {
  const s = eventSubject('parley.events', 'r1', 'room.deleted');
  assert.equal(s, 'parley.events.room.r1.event.room.deleted');
  assert.doesNotMatch(s, /^chat\.room\..*\.msg$/);
  assert.deepEqual(eventStreamSubjects('parley.events'), ['parley.events.room.>']);
});
