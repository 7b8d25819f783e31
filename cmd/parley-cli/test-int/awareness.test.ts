/**
 * Presence, unread counts and direct rooms in two terminals on the whole system (e2e/system.ts):
 * each sees the other come online and `/who` lists both; what Bob missed while away shows as
 * unread (and mentions) in `/rooms` until he enters the room again, which marks it read; `/dm`
 * by name opens the pair's direct room, and its message is unread on the other side.
 */
import { test } from 'node:test';
import { deferrer, eventually } from '@parley/test-support';
import { startSystem } from '../../../e2e/system.js';
import { twoInRoom, type Terminal } from './terminal.js';

/** Types `/rooms` until the newest answer (what follows `since` on the screen) passes `ok`: the counts come from the search index, which lags the stream. */
async function roomsUntil(term: Terminal, ok: (answer: string) => boolean, since?: string): Promise<void> {
  await eventually(async () => {
    term.type('/rooms');
    await new Promise((r) => setTimeout(r, 400));
    return ok(since ? (term.screen().split(since).at(-1) ?? '') : term.screen());
  }, 30_000, 400);
}

test('two terminals: /who, unread counts in /rooms, marking read by showing, /dm', { timeout: 240_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem();
  defer(() => sys.stop());
  const { a, b, roomId, alice, bob } = await twoInRoom(defer, sys.endpoints, sys.urls.edges[0]!);

  await b.waitFor(new RegExp(`^\\* online here: ${alice}$`, 'm'));
  await a.waitFor(new RegExp(`^\\* ${bob} is online$`, 'm'));
  a.type('/who');
  await a.waitFor(new RegExp(`^2 online:\\n  ● ${alice} \\(you\\)  [0-9a-f-]{36}  for \\d+ s\\n  ● ${bob}  [0-9a-f-]{36}  for \\d+ s$`, 'm'));

  b.type('/leave');
  await a.waitFor(new RegExp(`^\\* ${bob} went offline$`, 'm'), 30_000);
  a.type('one while bob is away');
  a.type(`two, for @${bob}`);
  await a.waitFor(/\(you\): two, for @/);
  const unread = new RegExp(`^ {2}${roomId} {2}lobby {2}\\(public, member\\) {2}2 unread, 1 mention$`, 'm');
  await roomsUntil(b, (s) => unread.test(s));

  // Entering shows both messages, and what is shown is marked read.
  b.type(`/join ${roomId}`);
  await b.waitFor(/: two, for @/);
  const read = new RegExp(`^ {2}${roomId} {2}lobby {2}\\(public, member\\)$`, 'm');
  b.type('/leave');
  await roomsUntil(b, (s) => read.test(s), 'left the live view');

  // Alice knows Bob's name from presence: a direct room by name.
  a.type(`/dm ${bob}`);
  await a.waitFor(new RegExp(`-- direct with ${bob}: 0 earlier message\\(s\\) --`));
  a.type('psst');
  await a.waitFor(/\(you\): psst/);
  a.type('/dm nobody-here');
  await a.waitFor(/! nobody called nobody-here seen here/);
  await roomsUntil(b, (s) => /^ {2}[0-9a-f-]{36} {2}\S+ {2}\(direct, \w+\) {2}1 unread$/m.test(s));
});
