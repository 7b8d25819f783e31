/**
 * The terminal client as a person drives it (lines in, lines out), against user-svc, room-svc
 * and an edge (the realtime test stack). The edge restarts on its port mid-chat: the client
 * resumes and shows every message once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer } from '@parley/test-support';
import { startStack } from '@parley/test-support/realtime-svc';
import { twoInRoom } from './terminal.js';

test('two terminals chat, and an edge restart loses and repeats nothing', { timeout: 90_000 }, async (t) => {
  const defer = deferrer(t);
  const stack = await startStack(defer);
  const edge = await stack.startEdge();
  const endpoints = { users: stack.users.http, rooms: stack.rooms.http, query: 'http://127.0.0.1:9' };
  const { a, b, roomId } = await twoInRoom(defer, endpoints, edge.url);

  a.type('hello from the terminal');
  await b.waitFor(/\] alice_\S+: hello from the terminal/);
  await a.waitFor(/\] alice_\S+ \(you\): hello from the terminal/);

  await edge.stop();
  await a.waitFor(/connection lost \(1012\); reconnecting/);
  a.type('written while the edge was away');
  await a.waitFor(/not connected; sent after reconnecting/);
  await stack.startEdge({ REALTIME_PORT: String(edge.port) });
  await b.waitFor(/\] alice_\S+: written while the edge was away/, 30_000);
  await a.waitFor(/-- back in lobby/);
  a.type('and after it');
  await b.waitFor(/alice_\S+: and after it/);

  const lines = (screen: string, body: string) => screen.split('\n').filter((l) => l.endsWith(`: ${body}`)).length;
  for (const body of ['hello from the terminal', 'written while the edge was away', 'and after it']) {
    assert.equal(lines(b.screen(), body), 1, `bob sees "${body}" once`);
    assert.equal(lines(a.screen(), body), 1, `alice sees "${body}" once`);
  }
  b.type('/rooms');
  await b.waitFor(new RegExp(`${roomId}  lobby  \\(public, member\\)`));
});
