import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectNats } from '@parley/clients';
import { deferrer, eventually, freePort, infra } from '@parley/test-support';
import { startUserSvc, call, newUser } from '@parley/test-support/user-svc';
import { roomNames, startRoomSvc } from '@parley/test-support/room-svc';
import type { RoomEvent } from '../src/events.js';

test('room.deleted reaches JetStream exactly once per event id although NATS was down at deletion and the relay restarted', async (t) => {
  const defer = deferrer(t);
  const users = await startUserSvc(defer);
  const names = await roomNames(defer);
  const owner = await newUser(users.http);
  const pending = async () => (await names.pg.client.query('SELECT id FROM room_outbox WHERE published_at IS NULL')).rowCount;

  // 1. NATS unreachable: the change commits, its events wait in the outbox.
  const deadNats = `nats://127.0.0.1:${await freePort()}`;
  const first = await startRoomSvc(defer, names, users.grpcAddr, { NATS_URL: deadNats });
  const room = await call(first.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'doomed', visibility: 'public' } });
  assert.equal((await call(first.http, 'DELETE', `/v1/rooms/${room.body.room.id}`, { token: owner.token })).status, 204);
  const ready = await call(first.http, 'GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.match(ready.body.checks.nats, /^failing/);
  await new Promise((r) => setTimeout(r, 500)); // a few relay attempts against the dead port
  assert.equal(await pending(), 2);
  assert.equal(await first.stop(), 0, 'shutdown with NATS down still ends cleanly');

  // 2. Relay restarted with NATS reachable: both events go out and are marked.
  const second = await startRoomSvc(defer, names, users.grpcAddr);
  await eventually(async () => (await pending()) === 0);
  const deleted = await names.pg.client.query<{ id: string }>("SELECT id FROM room_outbox WHERE payload->>'type' = 'room.deleted'");
  const deletedId = deleted.rows[0]!.id;

  // 3. A crash after the PubAck but before the mark: the row is pending again and republished.
  await second.stop();
  await names.pg.client.query('UPDATE room_outbox SET published_at = NULL WHERE id = $1', [deletedId]);
  await startRoomSvc(defer, names, users.grpcAddr);
  await eventually(async () => (await pending()) === 0);

  const nats = await connectNats({ url: infra.natsUrl, name: 'outbox-test' });
  defer(() => nats.close());
  const info = await nats.client.jsm.streams.info(names.stream);
  const byId = new Map<string, number>();
  const events: RoomEvent[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await nats.client.jsm.streams.getMessage(names.stream, { seq });
    const e = m.json<RoomEvent>();
    events.push(e);
    byId.set(e.id, (byId.get(e.id) ?? 0) + 1);
    assert.equal(m.subject, `${names.prefix}.room.${e.room_id}.event.${e.type}`);
    assert.equal(m.header?.get('Nats-Msg-Id'), e.id);
  }
  assert.deepEqual(events.map((e) => e.type), ['room.created', 'room.deleted']);
  assert.equal(byId.get(deletedId), 1);
  assert.ok([...byId.values()].every((n) => n === 1));
  assert.equal(info.state.messages, 2);
});
