import { z } from 'zod';
import { userV1, unary, type GrpcService } from '@parley/proto';
import { ParleyError } from '@parley/errors';
import { parseInput } from '@parley/errors';
import { USERNAME_PATTERN, uuidText } from '@parley/contracts';
import type { Logger } from '@parley/log';
import type { SessionService } from './sessions.js';
import type { PostgresUserStore } from './users.js';

const GetUser = z.object({ userId: uuidText() });
const FindUsers = z.object({ usernames: z.array(z.string().regex(USERNAME_PATTERN, 'must be a username')).max(50) });

export function userGrpcService(sessions: SessionService, users: PostgresUserStore, log: Logger): GrpcService {
  const implementation: userV1.UserServiceServer = {
    validateSession: unary(log, 'ValidateSession', async (req: userV1.ValidateSessionRequest) => {
      const s = await sessions.validate(req.token);
      return { user: { id: s.user.id, username: s.user.username, displayName: s.user.displayName }, cacheUntilMs: s.cacheUntilMs, expiresAtMs: s.expiresAtMs };
    }),
    getUser: unary(log, 'GetUser', async (req: userV1.GetUserRequest) => {
      const { userId } = parseInput(GetUser, req, 'request');
      const user = await users.get(userId);
      if (!user) throw new ParleyError('NOT_FOUND', 'user not found');
      return { user: { id: user.id, username: user.username, displayName: user.displayName } };
    }),
    findUsers: unary(log, 'FindUsers', async (req: userV1.FindUsersRequest) => {
      const { usernames } = parseInput(FindUsers, req, 'request');
      const found = await users.findByUsernames(usernames);
      return { users: found.map((u) => ({ id: u.id, username: u.username, displayName: u.displayName })) };
    }),
  };
  return { definition: userV1.UserServiceService, implementation };
}
