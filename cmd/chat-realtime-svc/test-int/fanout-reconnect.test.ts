import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually, natsRelay } from '@parley/test-support';
import { Client, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

interface FanoutStats {
  connections: number;
  fanout_filled: number;
  fanout_repeats: number;
  fanout_resyncs: number;
}

test('across an edge reconnect to NATS: its sockets stay open and get every message once, in stream order, also when nothing follows the loss', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  // A TCP relay between one edge and NATS: cut, it drops the edge's connection and refuses new
  // ones while the server and the other edge stay up.
  const hop = await natsRelay();
  defer(() => hop.close());
  const cutEdge = await s.startEdge({ NATS_URL: hop.url });
  const otherEdge = await s.startEdge();
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const watchers = await Promise.all([0, 1].map(() => Client.open(`${cutEdge.url}/v1/rooms/${room}/ws`, alice.token)));
  const sender = await Client.open(`${otherEdge.url}/v1/rooms/${room}/ws`, bob.token);
  defer(() => [...watchers, sender].forEach((c) => c.close()));
  await Promise.all([...watchers, sender].map((c) => c.next((f) => f.type === 'history')));
  const stats = async () => (await (await fetch(`${cutEdge.http}/stats`)).json()) as FanoutStats;

  const acked: string[] = [];
  const sendSome = async (n: number, tag: string) => {
    for (let i = 0; i < n; i++) acked.push(await sendAndAck(sender, `${tag}-${i}`, `${tag} ${i}`));
  };
  await sendSome(5, 'before');
  await eventually(async () => watchers.every((c) => c.messages().length === 5));

  // Away from NATS: the other edge keeps sending and the stream keeps storing.
  hop.cut();
  await sendSome(10, 'while-cut');
  hop.restore();
  // Nothing is sent after the loss: only the reconnect's check of the room can bring them.
  await eventually(async () => watchers.every((c) => c.messages().length === 15), 15_000);
  const afterResync = await stats();
  assert.ok(afterResync.fanout_resyncs >= 1, 'the edge noticed its reconnect');
  assert.ok(afterResync.fanout_filled >= 10, `the missed messages came from the stream (filled ${afterResync.fanout_filled})`);

  // A second cut with traffic after it: the next live message shows the gap as well.
  hop.cut();
  await sendSome(5, 'second-cut');
  hop.restore();
  await sendSome(5, 'after');
  await eventually(async () => watchers.every((c) => c.messages().length === 25), 15_000);
  // Anything late or repeated would show up within this pause.
  await new Promise((r) => setTimeout(r, 500));

  const order = (await s.streamed(room)).map((e) => e.id);
  assert.deepEqual(order, acked, 'the stream holds every acked send once, in send order');
  for (const c of watchers) {
    assert.equal(c.closed, undefined, 'the socket stayed open across both reconnects');
    assert.deepEqual(c.messages().map((m) => m['id']), order, 'each message once, in stream order');
  }
  assert.equal((await stats()).connections, 2);
});
