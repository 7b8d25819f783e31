import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferrer, eventually } from '@parley/test-support';
import { Client, newUser, sendAndAck, startStack } from '@parley/test-support/realtime-svc';

/** The value of one series of the edge's /metrics by name and one label (0 when it is not there). */
async function scrape(http: string): Promise<(name: string, label: string) => number> {
  const lines = (await (await fetch(`${http}/metrics`)).text()).split('\n');
  return (name, label) => {
    const line = lines.find((l) => l.startsWith(`parley_ws_${name}{`) && l.includes(label));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
}

test('the edge counts frames in and out by type and times each command by outcome', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge({ REALTIME_SENDS_PER_USER: '2', REALTIME_RATE_WINDOW_S: '600' });
  const [alice, bob] = [await newUser(s.users.http), await newUser(s.users.http)];
  const room = await s.newRoom(alice, [bob]);
  const a = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, alice.token);
  const b = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, bob.token);
  defer(() => [a, b].forEach((c) => c.close()));
  await a.next((f) => f.type === 'history');
  await b.next((f) => f.type === 'history');

  a.send({ type: 'ping' });
  await a.next((f) => f.type === 'pong');
  a.send('{"type":"nope"}');
  await a.next((f) => f.type === 'error');
  await sendAndAck(a, 'm1', 'one');
  // An edit of a message the (stand-in) store does not hold: refused by the checks.
  const from = a.frames.length;
  a.send({ type: 'edit', client_msg_id: 'e1', message_id: '1', body: 'x' });
  await a.next((f) => f.type === 'error' && f['client_msg_id'] === 'e1', 10_000, from);
  // Two commands per window: the third is rate limited.
  a.send({ type: 'send', client_msg_id: 'm2', body: 'two' });
  await a.next((f) => f.type === 'error' && f['client_msg_id'] === 'm2', 10_000, from);
  await b.next((f) => f.type === 'message');

  const ws = await eventually(async () => {
    const got = await scrape(edge.http);
    return got('frames_sent_total', 'type="message"') >= 2 ? got : undefined;
  });
  assert.equal(ws('frames_received_total', 'type="ping"'), 1);
  assert.equal(ws('frames_received_total', 'type="invalid"'), 1);
  assert.equal(ws('frames_received_total', 'type="send"'), 2);
  assert.equal(ws('frames_received_total', 'type="edit"'), 1);
  assert.equal(ws('frames_sent_total', 'type="history"'), 2);
  assert.equal(ws('frames_sent_total', 'type="pong"'), 1);
  assert.equal(ws('frames_sent_total', 'type="ack"'), 1);
  // The invalid frame, the refused edit, the rate-limited send.
  assert.equal(ws('frames_sent_total', 'type="error"'), 3);
  // One live message to each of the two sockets.
  assert.equal(ws('frames_sent_total', 'type="message"'), 2);
  assert.equal(ws('send_duration_seconds_count', 'outcome="acked"'), 1);
  assert.equal(ws('send_duration_seconds_count', 'outcome="refused"'), 1);
  assert.equal(ws('send_duration_seconds_count', 'outcome="rate_limited"'), 1);
  assert.ok(ws('send_duration_seconds_sum', 'outcome="acked"') > 0);
});
