import { test } from 'node:test';
import assert from 'node:assert/strict';
import { People } from '../src/people.js';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

test('/dm takes a user id as typed, or a name seen on this screen', () => {
  const p = new People();
  assert.deepEqual(p.resolve(ID(7).toUpperCase()), { id: ID(7) }, 'an id in any case, canonical out');
  p.see(ID(1), 'Ada');
  p.see(ID(2), 'bob');
  assert.deepEqual(p.resolve('BOB'), { id: ID(2) });
  assert.deepEqual(p.resolve('@ada'), { id: ID(1) });
  assert.match((p.resolve('carol') as { problem: string }).problem, /nobody called carol/);
  p.see(ID(3), 'Ada');
  assert.match((p.resolve('ada') as { problem: string }).problem, /2 people are called ada/);
});
