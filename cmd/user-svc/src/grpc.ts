import { userV1, unary, type GrpcService } from '@parley/proto';
import type { Logger } from '@parley/log';
import type { SessionService } from './sessions.js';

export function userGrpcService(sessions: SessionService, log: Logger): GrpcService {
  const implementation: userV1.UserServiceServer = {
    validateSession: unary(log, 'ValidateSession', async (req: userV1.ValidateSessionRequest) => {
      const s = await sessions.validate(req.token);
      return { user: { id: s.user.id, username: s.user.username, displayName: s.user.displayName }, cacheUntilMs: s.cacheUntilMs };
    }),
  };
  return { definition: userV1.UserServiceService, implementation };
}
