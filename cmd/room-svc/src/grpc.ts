import { z } from 'zod';
import { roomV1, unary, type GrpcService } from '@parley/proto';
import { ParleyError } from '@parley/errors';
import { parseInput } from '@parley/errors';
import { uuidText } from '@parley/contracts';
import type { Logger } from '@parley/log';
import type { PostgresRoomStore } from './rooms.js';

const GetRoom = z.object({ roomId: uuidText() });
const Check = z.object({ roomId: uuidText(), userId: uuidText() });
const ListMemberships = z.object({ userId: uuidText(), limit: z.number().int().min(1, 'limit must be 1..1000').max(1000, 'limit must be 1..1000') });

export function roomGrpcService(rooms: PostgresRoomStore, log: Logger): GrpcService {
  const implementation: roomV1.RoomServiceServer = {
    getRoom: unary(log, 'GetRoom', async (req: roomV1.GetRoomRequest) => {
      const { roomId } = parseInput(GetRoom, req, 'request');
      const room = await rooms.get(roomId);
      if (!room) throw new ParleyError('NOT_FOUND', 'room not found');
      return { room: { id: room.id, name: room.name, visibility: room.visibility, ownerId: room.ownerId, createdAt: room.createdAt.toISOString() } };
    }),
    checkMembership: unary(log, 'CheckMembership', async (req: roomV1.CheckMembershipRequest) => {
      const { roomId, userId } = parseInput(Check, req, 'request');
      const { role } = await rooms.access(roomId, userId);
      return { member: role !== undefined, role: role ?? '' };
    }),
    listMemberships: unary(log, 'ListMemberships', async (req: roomV1.ListMembershipsRequest) => {
      const { userId, limit } = parseInput(ListMemberships, req, 'request');
      const mine = await rooms.listMine(userId, limit);
      return { rooms: mine.map((r) => ({ roomId: r.id, role: r.role })) };
    }),
  };
  return { definition: roomV1.RoomServiceService, implementation };
}
