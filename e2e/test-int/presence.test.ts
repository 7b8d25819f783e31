/**
 * Presence across edges, on the whole system as processes (e2e/system.ts) with a private Redis
 * (so it can be stopped): who is online after the join, joins and leaves as they happen, two tabs
 * on two edges online once, a SIGKILLed edge's users gone within the documented bound, REST, and
 * Redis down: chat goes on, presence degrades to what the edges tell each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { deferrer, eventually, uniqueName } from '@parley/test-support';
import { Client } from '@parley/test-support/realtime-svc';
import { privateRedis } from '../private-servers.js';
import { startSystem, type Member } from '../system.js';

type Frame = Record<string, unknown>;
interface Who {
  user_id: string;
}
/** Bound of the edge's design: EDGE_TTL_MS (15 s) + SWEEP_MS (5 s), plus the batch and some slack. */
const DEAD_EDGE_BOUND_MS = 20_000;

test('presence across edges: snapshot, joins and leaves, two tabs once, a killed edge within the bound, REST, Redis down', { timeout: 300_000 }, async (t) => {
  const defer = deferrer(t);
  const dir = `/tmp/parley-presence-${uniqueName('p')}`;
  mkdirSync(dir, { recursive: true });
  const redis = await privateRedis(dir);
  defer(() => redis.stop());
  const sys = await startSystem({ edges: 2, redisUrl: redis.url });
  defer(() => sys.stop());
  const [alice, bob, carol] = await Promise.all([sys.signUp(), sys.signUp(), sys.signUp()]);
  const room = (await alice.rest.createRoom('presence', 'public')).id;
  await bob.rest.joinRoom(room);
  await carol.rest.joinRoom(room);
  const open = async (edge: number, who: Member) => {
    const c = await Client.open(`${sys.urls.edges[edge]}/v1/rooms/${room}/ws`, who.token);
    defer(() => c.close());
    const p = await c.next((f) => f.type === 'presence', 15_000);
    return { c, online: (p['online'] as Who[]).map((m) => m.user_id) };
  };
  const diffs = (c: Client, key: 'joined' | 'left') => c.frames.filter((f) => f.type === 'presence_diff').flatMap((f) => (f[key] as Who[]).map((m) => m.user_id));

  const a = await open(0, alice);
  assert.deepEqual(a.online, [alice.user.id], 'alone in the room');
  const b = await open(1, bob);
  assert.deepEqual(b.online.sort(), [alice.user.id, bob.user.id].sort(), 'the joiner on another edge sees who is there');
  await eventually(async () => (diffs(a.c, 'joined').includes(bob.user.id) ? true : undefined));

  const c1 = await open(0, carol);
  const c2 = await open(1, carol);
  assert.ok(c2.online.includes(carol.user.id));
  await eventually(async () => (diffs(b.c, 'joined').includes(carol.user.id) ? true : undefined));
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(diffs(a.c, 'joined').filter((u) => u === carol.user.id).length, 1, 'two tabs on two edges: joined once');
  c1.c.close();
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!diffs(a.c, 'left').includes(carol.user.id), 'still online through the other tab');
  c2.c.close();
  await eventually(async () => (diffs(a.c, 'left').includes(carol.user.id) ? true : undefined));

  await t.test('REST: the room\'s online members, and a user\'s own status with last seen', async () => {
    const get = (path: string, who: Member) => fetch(`${sys.urls.edges[0]!.replace('ws://', 'http://')}${path}`, { headers: { authorization: `Bearer ${who.token}` } });
    const online = (await (await get(`/v1/rooms/${room}/presence`, alice)).json()) as { online: Who[] };
    assert.deepEqual(online.online.map((m) => m.user_id).sort(), [alice.user.id, bob.user.id].sort());
    const me = (await (await get(`/v1/users/${alice.user.id}/presence`, alice)).json()) as { status: string };
    assert.equal(me.status, 'online');
    const gone = (await (await get(`/v1/users/${carol.user.id}/presence`, carol)).json()) as { status: string; last_seen?: number };
    assert.equal(gone.status, 'offline');
    assert.ok(gone.last_seen && gone.last_seen > Date.now() - 60_000, 'last seen when the last tab closed');
    assert.equal((await get(`/v1/users/${carol.user.id}/presence`, alice)).status, 403, "another user's status is theirs");
    const outsider = await sys.signUp();
    const priv = (await alice.rest.createRoom('private', 'private')).id;
    assert.equal((await get(`/v1/rooms/${priv}/presence`, outsider)).status, 403);
    assert.equal((await get(`/v1/rooms/not-a-room/presence`, alice)).status, 400);
    assert.equal((await fetch(`${sys.urls.edges[0]!.replace('ws://', 'http://')}/v1/rooms/${room}/presence`)).status, 401);
  });

  await t.test(`an edge that dies (SIGKILL) leaves its users online for at most ${DEAD_EDGE_BOUND_MS / 1000} s`, async () => {
    const killedAt = Date.now();
    await sys.kill('chat-realtime-svc-1');
    await eventually(async () => (diffs(a.c, 'left').includes(bob.user.id) ? true : undefined), DEAD_EDGE_BOUND_MS + 5_000, 200);
    const took = Date.now() - killedAt;
    t.diagnostic(`bob left ${took} ms after his edge was killed`);
    assert.ok(took <= DEAD_EDGE_BOUND_MS + 1_000, `within the bound (${took} ms)`);
    await sys.start('chat-realtime-svc-1');
  });

  await t.test('Redis down: chat goes on; presence knows what the edges tell each other', async () => {
    await redis.stop();
    defer(() => redis.restart(0).catch(() => undefined));
    const bob2 = await open(1, bob);
    assert.ok(bob2.online.includes(bob.user.id), 'the joiner sees at least itself');
    await eventually(async () => (diffs(a.c, 'joined').filter((u) => u === bob.user.id).length >= 2 ? true : undefined), 10_000, 100);
    const before = a.c.frames.length;
    bob2.c.send({ type: 'send', client_msg_id: 'during-outage', body: 'redis is down' });
    const ack = await bob2.c.next((f: Frame) => f.type === 'ack' && f['client_msg_id'] === 'during-outage', 15_000);
    assert.ok(ack);
    await a.c.next((f: Frame) => f.type === 'message', 15_000, before);
  });
});
