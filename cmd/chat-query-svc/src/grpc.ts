import { canonicalUuid } from '@parley/contracts';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { chatV1, unary, type GrpcService } from '@parley/proto';
import { ParleyError } from '@parley/errors';
import { extractToken } from '@parley/access';
import type { Logger } from '@parley/log';
import type { StoredMessage } from './bucket-walk.js';
import { idCursors, type LatestMessages } from './latest-messages.js';


export function queryGrpcService(deps: { latest: LatestMessages; limits: { defaultLimit: number; maxLimit: number }; log: Logger }): GrpcService {
  const { latest, limits } = deps;
  const implementation: chatV1.ChatQueryServiceServer = {
    listMessages: unary(deps.log, 'ListMessages', async (req: chatV1.ListMessagesRequest, call: ServerUnaryCall<chatV1.ListMessagesRequest, chatV1.ListMessagesResponse>) => {
      const auth = call.metadata.get('authorization')[0];
      const found = extractToken({ authorization: typeof auth === 'string' ? auth : undefined });
      if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token in the authorization metadata');
      const res = await latest.list(found.token, validate(req, limits));
      return { messages: res.messages.map(toProto), hasMore: res.hasMore };
    }),
  };
  return { definition: chatV1.ChatQueryServiceService, implementation };
}

function validate(req: chatV1.ListMessagesRequest, limits: { defaultLimit: number; maxLimit: number }) {
  const roomId = canonicalUuid(req.roomId);
  if (roomId === undefined) throw new ParleyError('VALIDATION_FAILED', 'room_id must be a UUID');
  if (req.limit > limits.maxLimit) throw new ParleyError('VALIDATION_FAILED', `limit must be at most ${limits.maxLimit}`);
  const limit = req.limit === 0 ? limits.defaultLimit : req.limit;
  return { roomId, limit, ...idCursors(req.beforeId, req.afterId) };
}

function toProto(m: StoredMessage): chatV1.ChatMessage {
  return {
    id: m.id,
    roomId: m.room_id,
    senderId: m.sender_id,
    senderName: m.sender_name,
    body: m.body,
    clientMsgId: m.client_msg_id,
    kind: m.kind,
    createdAt: m.created_at,
  };
}
