import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { bodyErrors, errorAnswers, jsonAnswer, noContent, registerRoutes, sessionSecurity, type ZodApp } from '@parley/http';
import { nameText } from '@parley/contracts';
import { extractToken } from '@parley/access';
import { CREATABLE_VISIBILITIES, memberSchema, ROOM_ROLES, roomSchema, uuidText } from '@parley/contracts';
import { ownerOnly, type PostgresRoomStore, type Room, type Role } from './rooms.js';
import type { SessionValidator, Caller } from '@parley/access';
import type { UserDirectory } from './user-directory.js';

const roomName = nameText(1, 100);
const roomId = uuidText().meta({ format: 'uuid', description: 'room id, in any letter case' });
const CreateBody = z.strictObject({ name: roomName, visibility: z.enum(CREATABLE_VISIBILITIES).default('private') });
const DirectBody = z.strictObject({ user_id: uuidText().meta({ format: 'uuid', description: 'the other user' }) });
const RenameBody = z.strictObject({ name: roomName });
const RoomParams = z.strictObject({ roomId });
const MemberParams = z.strictObject({ roomId, userId: uuidText().meta({ format: 'uuid', description: 'user id, in any letter case' }) });
const ListQuery = z.strictObject({
  scope: z.enum(['mine', 'public']).default('mine').meta({ description: 'the rooms the caller belongs to, or all public rooms' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const roomAnswer = z.object({ room: roomSchema });
const roomListAnswer = z.object({ rooms: z.array(roomSchema) });
const joinAnswer = z.object({ role: z.enum(ROOM_ROLES).meta({ description: "the caller's role after joining (an owner stays owner)" }) });
const memberListAnswer = z.object({ members: z.array(memberSchema) });
const memberAnswer = z.object({ member: memberSchema.pick({ user_id: true, role: true }) });

export const roomJson = (r: Room, role?: Role) => ({
  id: r.id,
  name: r.name,
  visibility: r.visibility,
  owner_id: r.ownerId,
  created_at: r.createdAt.toISOString(),
  ...(role ? { role } : {}),
});

/** The rooms and memberships REST API; every route needs a session, checked before anything else. */
export function registerRoomRoutes(app: FastifyInstance, rooms: PostgresRoomStore, sessions: SessionValidator, users: UserDirectory): void {
  registerRoutes(app, (routes) => roomRoutes(routes, rooms, sessions, users));
}

function roomRoutes(app: ZodApp, rooms: PostgresRoomStore, sessions: SessionValidator, users: UserDirectory): void {
  // Authenticate before looking at anything else, so an anonymous caller learns nothing: the
  // session is checked in preValidation, which fastify runs before the route's schemas.
  const callers = new WeakMap<FastifyRequest, Caller>();
  const authenticate = async (req: FastifyRequest): Promise<void> => {
    const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
    if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
    callers.set(req, await sessions.validate(found.token));
  };
  const caller = (req: FastifyRequest): Caller => {
    const me = callers.get(req);
    if (!me) throw new ParleyError('INTERNAL', `${req.method} ${req.routeOptions.url ?? ''} has no authentication step`);
    return me;
  };
  const guarded = { preValidation: authenticate };
  const security = sessionSecurity;

  app.post(
    '/v1/rooms',
    {
      ...guarded,
      schema: {
        summary: 'Create a room (the caller becomes its owner)',
        security,
        body: CreateBody,
        response: { 201: jsonAnswer('created', roomAnswer), ...errorAnswers(...bodyErrors, 'UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      const room = await rooms.create(caller(req).id, req.body.name, req.body.visibility);
      return reply.code(201).send({ room: roomJson(room, 'owner') });
    },
  );

  app.get(
    '/v1/rooms',
    {
      ...guarded,
      schema: {
        summary: 'List my rooms (scope=mine) or public rooms (scope=public)',
        security,
        querystring: ListQuery,
        response: { 200: jsonAnswer('rooms; `role` is present on rooms the caller belongs to', roomListAnswer), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => {
      const me = caller(req);
      const q = req.query;
      if (q.scope === 'public') return { rooms: (await rooms.listPublic(q.limit)).map((r) => roomJson(r)) };
      return { rooms: (await rooms.listMine(me.id, q.limit)).map((r) => roomJson(r, r.role)) };
    },
  );

  app.get(
    '/v1/rooms/:roomId',
    {
      ...guarded,
      schema: {
        summary: 'Get a room (a private one: members only)',
        security,
        params: RoomParams,
        response: { 200: jsonAnswer('the room', roomAnswer), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => {
      const { room, role } = await rooms.access(req.params.roomId, caller(req).id);
      if (room.visibility === 'private' && !role) throw new ParleyError('FORBIDDEN', 'not a member of this room');
      return { room: roomJson(room, role) };
    },
  );

  app.patch(
    '/v1/rooms/:roomId',
    {
      ...guarded,
      schema: {
        summary: 'Rename (owner only)',
        security,
        params: RoomParams,
        body: RenameBody,
        response: { 200: jsonAnswer('renamed', roomAnswer), ...errorAnswers(...bodyErrors, 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => ({ room: roomJson(await rooms.rename(req.params.roomId, caller(req).id, req.body.name), 'owner') }),
  );

  app.delete(
    '/v1/rooms/:roomId',
    {
      ...guarded,
      schema: {
        summary: 'Delete (owner only); announces room.deleted',
        security,
        params: RoomParams,
        response: { 204: noContent('deleted'), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      await rooms.delete(req.params.roomId, caller(req).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/direct-rooms',
    {
      ...guarded,
      schema: {
        summary: 'The direct room of the caller and another user, created on first use (idempotent)',
        description:
          'The same pair always gets the same room, whichever of them asks first or however they race. Both are members and stay members: ' +
          'adding, removing, leaving, renaming and deleting are refused (409). 400 for yourself, 404 for an unknown user.',
        security,
        body: DirectBody,
        response: {
          201: jsonAnswer('created', roomAnswer),
          200: jsonAnswer('the pair already had it', roomAnswer),
          ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE', ...bodyErrors),
        },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const other = req.body.user_id;
      if (other === me.id) throw new ParleyError('VALIDATION_FAILED', 'a direct room is between two different users');
      await users.requireUser(other);
      const { room, created } = await rooms.direct(me.id, other);
      return reply.code(created ? 201 : 200).send({ room: roomJson(room, 'member') });
    },
  );

  app.post(
    '/v1/rooms/:roomId/join',
    {
      ...guarded,
      schema: {
        summary: 'Join a public room (idempotent)',
        security,
        params: RoomParams,
        response: { 200: jsonAnswer('joined', joinAnswer), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => ({ role: await rooms.join(req.params.roomId, caller(req).id) }),
  );

  app.post(
    '/v1/rooms/:roomId/leave',
    {
      ...guarded,
      schema: {
        summary: 'Leave a room (the owner cannot: 409)',
        security,
        params: RoomParams,
        response: { 204: noContent('left'), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      await rooms.leave(req.params.roomId, caller(req).id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/rooms/:roomId/members',
    {
      ...guarded,
      schema: {
        summary: 'List members (members only)',
        security,
        params: RoomParams,
        response: { 200: jsonAnswer('the members, the owner first', memberListAnswer), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => {
      const { roomId } = req.params;
      const { role } = await rooms.access(roomId, caller(req).id);
      if (!role) throw new ParleyError('FORBIDDEN', 'not a member of this room');
      const members = await rooms.members(roomId);
      return { members: members.map((m) => ({ user_id: m.userId, role: m.role, joined_at: m.joinedAt.toISOString() })) };
    },
  );

  app.put(
    '/v1/rooms/:roomId/members/:userId',
    {
      ...guarded,
      schema: {
        summary: 'Add a member (owner only; idempotent)',
        description: '404 when the room or the user is unknown; 503 when user-svc cannot say whether the user exists.',
        security,
        params: MemberParams,
        response: {
          201: jsonAnswer('added', memberAnswer),
          200: jsonAnswer('already a member', memberAnswer),
          ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'DEPENDENCY_UNAVAILABLE'),
        },
      },
    },
    async (req, reply) => {
      const me = caller(req);
      const { roomId, userId } = req.params;
      // Owner first, so only the owner learns whether a user id exists; addMember checks it again under the room lock.
      const { room, role } = await rooms.access(roomId, me.id);
      if (room.visibility === 'direct' && role) throw new ParleyError('CONFLICT', 'a direct room is always between its two users: nobody can be added');
      if (role !== 'owner') throw ownerOnly();
      await users.requireUser(userId);
      const added = await rooms.addMember(roomId, me.id, userId);
      return reply.code(added ? 201 : 200).send({ member: { user_id: userId, role: 'member' } });
    },
  );

  app.delete(
    '/v1/rooms/:roomId/members/:userId',
    {
      ...guarded,
      schema: {
        summary: 'Remove a member (owner only; the owner cannot be removed: 409)',
        security,
        params: MemberParams,
        response: { 204: noContent('removed'), ...errorAnswers('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      const { roomId, userId } = req.params;
      await rooms.removeMember(roomId, caller(req).id, userId);
      return reply.code(204).send();
    },
  );
}
