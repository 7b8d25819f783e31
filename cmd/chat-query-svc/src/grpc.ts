import type { ServerUnaryCall } from '@grpc/grpc-js';
import { chatV1, unary, type GrpcService } from '@parley/proto';
import { parseId } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { extractToken } from '@parley/http';
import type { Logger } from '@parley/log';
import { afterAccess, type RoomAccess } from './access.js';
import { readPage, type PartitionReader, type StoredMessage } from './bucket-walk.js';

export interface ListLimits {
  defaultLimit: number;
  maxLimit: number;
  skewMs: number;
  bucketMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function queryGrpcService(deps: { access: RoomAccess; reader: PartitionReader; limits: ListLimits; log: Logger; now?: () => number }): GrpcService {
  const { access, reader, limits } = deps;
  const now = deps.now ?? Date.now;
  const implementation: chatV1.ChatQueryServiceServer = {
    listMessages: unary(deps.log, 'ListMessages', async (req: chatV1.ListMessagesRequest, call: ServerUnaryCall<chatV1.ListMessagesRequest, chatV1.ListMessagesResponse>) => {
      const auth = call.metadata.get('authorization')[0];
      const found = extractToken({ authorization: typeof auth === 'string' ? auth : undefined });
      if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token in the authorization metadata');
      const page = validate(req, limits);
      const read = async () => {
        const createdAt = await access.roomCreatedAt(page.roomId);
        return readPage(reader, page, { roomCreatedAtMs: createdAt, nowMs: now(), skewMs: limits.skewMs, bucketMs: limits.bucketMs });
      };
      const res = await afterAccess(access.authorize(found.token, page.roomId), read());
      return { messages: res.messages.map(toProto), hasMore: res.hasMore };
    }),
  };
  return { definition: chatV1.ChatQueryServiceService, implementation };
}

function validate(req: chatV1.ListMessagesRequest, limits: ListLimits) {
  if (!UUID.test(req.roomId)) throw new ParleyError('VALIDATION_FAILED', 'room_id must be a UUID');
  const roomId = req.roomId.toLowerCase();
  if (req.limit > limits.maxLimit) throw new ParleyError('VALIDATION_FAILED', `limit must be at most ${limits.maxLimit}`);
  const limit = req.limit === 0 ? limits.defaultLimit : req.limit;
  if (req.beforeId && req.afterId) throw new ParleyError('VALIDATION_FAILED', 'give before_id or after_id, not both');
  const cursor = (name: string, s: string) => {
    if (!s) return undefined;
    const id = parseId(s);
    if (id === undefined) throw new ParleyError('VALIDATION_FAILED', `${name} must be a message id (positive int64 as a decimal string)`);
    return id;
  };
  return { roomId, limit, beforeId: cursor('before_id', req.beforeId), afterId: cursor('after_id', req.afterId) };
}

function toProto(m: StoredMessage): chatV1.ChatMessage {
  return {
    id: m.id.toString(),
    roomId: m.roomId,
    senderId: m.senderId,
    senderName: m.senderName,
    body: m.body,
    clientMsgId: m.clientMsgId,
    kind: m.kind,
    createdAt: m.createdAt,
  };
}
