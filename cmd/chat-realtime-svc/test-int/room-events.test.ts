import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deferrer, eventually, natsRelay } from '@parley/test-support';
import { Client, newUser, startStack } from '@parley/test-support/realtime-svc';

/** A room.deleted event shaped as room-svc's outbox publishes it, stored straight into its stream. */
async function storeRoomDeleted(s: Awaited<ReturnType<typeof startStack>>, roomId: string, actorId: string): Promise<void> {
  const event = { v: 1, id: randomUUID(), type: 'room.deleted', room_id: roomId, actor_id: actorId, occurred_at: new Date().toISOString(), data: {} };
  await s.nats.js.publish(`${s.names.prefix}.room.${roomId}.event.room.deleted`, JSON.stringify(event), { msgID: event.id });
}

test('a room.deleted stored after the edge started but before a socket joined still closes it with room_deleted and 4404', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const edge = await s.startEdge();
  const owner = await newUser(s.users.http);
  const room = await s.newRoom(owner);
  // room-svc still has the room: only the stored event can refuse this socket.
  await storeRoomDeleted(s, room, owner.id);
  const c = await Client.open(`${edge.url}/v1/rooms/${room}/ws`, owner.token);
  defer(() => c.close());
  await c.next((f) => f.type === 'room_deleted' && f['room_id'] === room);
  assert.equal((await c.waitClosed()).code, 4404);
});

test('a room event stored while the edge was cut off from NATS is applied once it reconnects', async (t) => {
  const defer = deferrer(t);
  const s = await startStack(defer);
  const relay = await natsRelay();
  defer(() => relay.close());
  const edge = await s.startEdge({ NATS_URL: relay.url });
  const owner = await newUser(s.users.http);
  const [cutOff, control] = [await s.newRoom(owner), await s.newRoom(owner)];
  // The follower is running (it applies an event) before the cut.
  await storeRoomDeleted(s, control, owner.id);
  await eventually(async () => {
    const c = await Client.open(`${edge.url}/v1/rooms/${control}/ws`, owner.token);
    return (await c.waitClosed()).code === 4404;
  });

  const before = relay.accepted();
  relay.cut();
  await storeRoomDeleted(s, cutOff, owner.id);
  relay.restore();
  await eventually(async () => relay.accepted() > before, 10_000);

  // Sockets open during the outage are reset on reconnect, so a fresh join shows what the edge learnt.
  const code = await eventually(async () => {
    const c = await Client.open(`${edge.url}/v1/rooms/${cutOff}/ws`, owner.token);
    const closed = await c.waitClosed(3000).catch(() => (c.close(), undefined));
    return closed?.code === 4404 ? closed.code : undefined;
  }, 20_000);
  assert.equal(code, 4404);
});
