import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { parseInput, nameText, extractToken } from '@parley/http';
import { uuidText } from '@parley/contracts';
import { ownerOnly, type PostgresRoomStore, type Room, type Role } from './rooms.js';
import type { SessionValidator, Caller } from '@parley/access';
import type { UserDirectory } from './user-directory.js';

const roomName = nameText(1, 100);
const CreateBody = z.strictObject({ name: roomName, visibility: z.enum(['public', 'private']).default('private') });
const RenameBody = z.strictObject({ name: roomName });
const RoomParams = z.strictObject({ roomId: uuidText() });
const MemberParams = z.strictObject({ roomId: uuidText(), userId: uuidText() });
const ListQuery = z.strictObject({
  scope: z.enum(['mine', 'public']).default('mine'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const roomJson = (r: Room, role?: Role) => ({
  id: r.id,
  name: r.name,
  visibility: r.visibility,
  owner_id: r.ownerId,
  created_at: r.createdAt.toISOString(),
  ...(role ? { role } : {}),
});

export function registerRoomRoutes(app: FastifyInstance, rooms: PostgresRoomStore, sessions: SessionValidator, users: UserDirectory): void {
  const caller = async (req: FastifyRequest): Promise<Caller> => {
    const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
    if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
    return sessions.validate(found.token);
  };
  // Authenticate before looking at anything else, so an anonymous caller learns nothing.
  const withRoom = async (req: FastifyRequest) => {
    const me = await caller(req);
    const { roomId } = parseInput(RoomParams, req.params, 'path');
    return { me, roomId };
  };

  app.post('/v1/rooms', async (req, reply) => {
    const me = await caller(req);
    const body = parseInput(CreateBody, req.body, 'body');
    const room = await rooms.create(me.id, body.name, body.visibility);
    return reply.code(201).send({ room: roomJson(room, 'owner') });
  });

  app.get('/v1/rooms', async (req) => {
    const me = await caller(req);
    const q = parseInput(ListQuery, req.query, 'query');
    if (q.scope === 'public') return { rooms: (await rooms.listPublic(q.limit)).map((r) => roomJson(r)) };
    return { rooms: (await rooms.listMine(me.id, q.limit)).map((r) => roomJson(r, r.role)) };
  });

  app.get('/v1/rooms/:roomId', async (req) => {
    const { me, roomId } = await withRoom(req);
    const { room, role } = await rooms.access(roomId, me.id);
    if (room.visibility === 'private' && !role) throw new ParleyError('FORBIDDEN', 'not a member of this room');
    return { room: roomJson(room, role) };
  });

  app.patch('/v1/rooms/:roomId', async (req) => {
    const { me, roomId } = await withRoom(req);
    const body = parseInput(RenameBody, req.body, 'body');
    return { room: roomJson(await rooms.rename(roomId, me.id, body.name), 'owner') };
  });

  app.delete('/v1/rooms/:roomId', async (req, reply) => {
    const { me, roomId } = await withRoom(req);
    await rooms.delete(roomId, me.id);
    return reply.code(204).send();
  });

  app.post('/v1/rooms/:roomId/join', async (req) => {
    const { me, roomId } = await withRoom(req);
    return { role: await rooms.join(roomId, me.id) };
  });

  app.post('/v1/rooms/:roomId/leave', async (req, reply) => {
    const { me, roomId } = await withRoom(req);
    await rooms.leave(roomId, me.id);
    return reply.code(204).send();
  });

  app.get('/v1/rooms/:roomId/members', async (req) => {
    const { me, roomId } = await withRoom(req);
    const { role } = await rooms.access(roomId, me.id);
    if (!role) throw new ParleyError('FORBIDDEN', 'not a member of this room');
    const members = await rooms.members(roomId);
    return { members: members.map((m) => ({ user_id: m.userId, role: m.role, joined_at: m.joinedAt.toISOString() })) };
  });

  app.put('/v1/rooms/:roomId/members/:userId', async (req, reply) => {
    const me = await caller(req);
    const { roomId, userId } = parseInput(MemberParams, req.params, 'path');
    // Owner first, so only the owner learns whether a user id exists; addMember checks it again under the room lock.
    if ((await rooms.access(roomId, me.id)).role !== 'owner') throw ownerOnly();
    await users.requireUser(userId);
    const added = await rooms.addMember(roomId, me.id, userId);
    return reply.code(added ? 201 : 200).send({ member: { user_id: userId, role: 'member' } });
  });

  app.delete('/v1/rooms/:roomId/members/:userId', async (req, reply) => {
    const me = await caller(req);
    const { roomId, userId } = parseInput(MemberParams, req.params, 'path');
    await rooms.removeMember(roomId, me.id, userId);
    return reply.code(204).send();
  });
}
