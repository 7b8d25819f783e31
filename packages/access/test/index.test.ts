import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { userV1, roomV1 } from '@parley/proto';
import { ParleyError } from '@parley/errors';
import { GrpcSessionValidator, GrpcMembershipChecker } from '../src/index.js';

/** A stand-in user-svc/room-svc over real gRPC: the cache rules are what is under test here. */
async function fakeServer(t: { after(fn: () => unknown): void }, state: { cacheUntil: number; valid: boolean; member: boolean; calls: Record<string, number> }) {
  const server = new Server();
  const count = (k: string) => (state.calls[k] = (state.calls[k] ?? 0) + 1);
  server.addService(userV1.UserServiceService, {
    validateSession: (_call: unknown, cb: (err: unknown, res?: userV1.ValidateSessionResponse) => void) => {
      count('validate');
      if (!state.valid) return cb({ code: status.UNAUTHENTICATED, details: 'bad session' });
      cb(null, { user: { id: 'u1', username: 'ada', displayName: '' }, cacheUntilMs: state.cacheUntil, expiresAtMs: state.cacheUntil + 60_000 });
    },
  } as never);
  server.addService(roomV1.RoomServiceService, {
    checkMembership: (_call: unknown, cb: (err: unknown, res?: roomV1.CheckMembershipResponse) => void) => {
      count('member');
      cb(null, { member: state.member, role: state.member ? 'member' : '' });
    },
    getRoom: (_call: unknown, cb: (err: unknown, res?: roomV1.GetRoomResponse) => void) => {
      count('room');
      cb(null, { room: { id: 'r1', name: 'r', visibility: 'public', ownerId: 'u1', createdAt: '2026-01-01T00:00:00.000Z' } });
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

test('sessions are reused until the earlier of the local TTL and the granted bound; failures are not cached', async (t) => {
  let now = 1_000_000;
  const state = { cacheUntil: now + 500, valid: true, member: true, calls: {} as Record<string, number> };
  const address = await fakeServer(t, state);
  const v = new GrpcSessionValidator({ address, cacheTtlMs: 10_000, now: () => now });
  t.after(() => v.close());

  const caller = await v.validate('tok');
  assert.deepEqual(caller, { id: 'u1', username: 'ada', displayName: 'ada', sessionExpiresAtMs: state.cacheUntil + 60_000 }, 'display name falls back to the username; the session end comes along');
  await v.validate('tok');
  assert.equal(state.calls.validate, 1, 'second call served from cache');
  now += 600; // past the bound user-svc granted, though inside the local TTL
  state.valid = false;
  await assert.rejects(v.validate('tok'), (e: unknown) => e instanceof ParleyError && e.code === 'UNAUTHENTICATED');
  await assert.rejects(v.validate('tok'));
  assert.equal(state.calls.validate, 3, 'refusals are asked again every time');
});

test('membership is asked on every call; room creation time is cached', async (t) => {
  const state = { cacheUntil: 0, valid: true, member: true, calls: {} as Record<string, number> };
  const address = await fakeServer(t, state);
  const m = new GrpcMembershipChecker({ address });
  t.after(() => m.close());
  assert.deepEqual(await m.requireMember('r1', 'u1'), { role: 'member' });
  state.member = false;
  await assert.rejects(m.requireMember('r1', 'u1'), (e: unknown) => e instanceof ParleyError && e.code === 'FORBIDDEN');
  assert.equal(state.calls.member, 2);
  assert.equal(await m.roomCreatedAt('r1'), Date.parse('2026-01-01T00:00:00.000Z'));
  await m.roomCreatedAt('r1');
  assert.equal(state.calls.room, 1);
});

test('an unreachable user-svc is DEPENDENCY_UNAVAILABLE or TIMEOUT, never UNAUTHENTICATED', async (t) => {
  const v = new GrpcSessionValidator({ address: '127.0.0.1:1', cacheTtlMs: 1000, timeoutMs: 500 });
  t.after(() => v.close());
  await assert.rejects(v.validate('tok'), (e: unknown) => e instanceof ParleyError && (e.code === 'DEPENDENCY_UNAVAILABLE' || e.code === 'TIMEOUT'));
});
