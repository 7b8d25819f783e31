import { canonicalUuid, CLIENT_MSG_ID_PATTERN } from '@parley/contracts';
import type { Metadata } from '@grpc/grpc-js';
import { chatV1, messageToProto, unary, type GrpcService } from '@parley/proto';
import { parseId } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { extractToken } from '@parley/access';
import type { Logger } from '@parley/log';
import { afterAccess, type RoomAccess } from './access.js';
import { idCursors, type LatestMessages } from './latest-messages.js';
import type { MessageReads } from './message-reads.js';
import type { ReadMarks, ReadState } from './read-state.js';

const toProtoState = (s: ReadState): chatV1.ReadState => ({ readUpTo: s.readUpTo?.toString() ?? '', unreadMessages: s.messages, unreadMentions: s.mentions });

export function queryGrpcService(deps: {
  latest: LatestMessages;
  reads: MessageReads;
  access: RoomAccess;
  marks: ReadMarks;
  limits: { defaultLimit: number; maxLimit: number };
  log: Logger;
}): GrpcService {
  const { latest, limits, reads, access, marks } = deps;
  const implementation: chatV1.ChatQueryServiceServer = {
    listMessages: unary(deps.log, 'ListMessages', async (req: chatV1.ListMessagesRequest, call: { metadata: Metadata }) => {
      const res = await latest.list(tokenOf(call.metadata), validate(req, limits));
      return { messages: res.messages.map(messageToProto), hasMore: res.hasMore, changed: res.changed.map(messageToProto), changesTruncated: res.changesTruncated };
    }),
    prepareCommand: unary(deps.log, 'PrepareCommand', async (req: chatV1.PrepareCommandRequest, call: { metadata: Metadata }): Promise<chatV1.PrepareCommandResponse> => {
      const roomId = roomIdOf(req.roomId);
      if (!CLIENT_MSG_ID_PATTERN.test(req.clientMsgId)) throw new ParleyError('VALIDATION_FAILED', 'client_msg_id must match [A-Za-z0-9_-]{1,64}');
      const target = req.messageId === '' ? undefined : parseId(req.messageId);
      if (req.messageId !== '' && target === undefined) throw new ParleyError('VALIDATION_FAILED', 'message_id must be a message id (positive int64 as a decimal string)');
      const { userId } = await access.identify(tokenOf(call.metadata));
      // A plain send asks only whether the caller's own retry key was logged: that reveals
      // nothing of the room, so the membership round trip (the edge checked it at the join and
      // follows removals) is left out of every send's path.
      if (target === undefined) {
        const logged = await reads.loggedCommand(roomId, userId, req.clientMsgId);
        return { loggedEventId: logged?.eventId ?? '', loggedKind: logged?.kind ?? '', message: undefined, callerIsOwner: false };
      }
      const membership = access.requireMember(roomId, userId);
      const [logged, message] = await afterAccess(
        membership,
        Promise.all([reads.loggedCommand(roomId, userId, req.clientMsgId), reads.one(roomId, target, userId)]),
      );
      const member = await membership;
      return {
        loggedEventId: logged?.eventId ?? '',
        loggedKind: logged?.kind ?? '',
        message: message ? messageToProto(message) : undefined,
        callerIsOwner: member.role === 'owner',
      };
    }),
    markRead: unary(deps.log, 'MarkRead', async (req: chatV1.MarkReadRequest, call: { metadata: Metadata }): Promise<chatV1.MarkReadResponse> => {
      const roomId = roomIdOf(req.roomId);
      const id = parseId(req.messageId);
      if (id === undefined) throw new ParleyError('VALIDATION_FAILED', 'message_id must be a message id (positive int64 as a decimal string)');
      const { userId, readUpTo } = await marks.mark(tokenOf(call.metadata), roomId, id);
      return { state: toProtoState(await marks.state(userId, roomId, readUpTo)) };
    }),
    roomUnread: unary(deps.log, 'RoomUnread', async (req: chatV1.RoomUnreadRequest, call: { metadata: Metadata }): Promise<chatV1.RoomUnreadResponse> => {
      const roomId = roomIdOf(req.roomId);
      const { userId } = await access.authorize(tokenOf(call.metadata), roomId);
      return { state: toProtoState(await marks.state(userId, roomId)) };
    }),
  };
  return { definition: chatV1.ChatQueryServiceService, implementation };
}

function tokenOf(md: Metadata): string {
  const auth = md.get('authorization')[0];
  const found = extractToken({ authorization: typeof auth === 'string' ? auth : undefined });
  if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token in the authorization metadata');
  return found.token;
}

function roomIdOf(text: string): string {
  const roomId = canonicalUuid(text);
  if (roomId === undefined) throw new ParleyError('VALIDATION_FAILED', 'room_id must be a UUID');
  return roomId;
}

function validate(req: chatV1.ListMessagesRequest, limits: { defaultLimit: number; maxLimit: number }) {
  const roomId = roomIdOf(req.roomId);
  if (req.limit > limits.maxLimit) throw new ParleyError('VALIDATION_FAILED', `limit must be at most ${limits.maxLimit}`);
  const limit = req.limit === 0 ? limits.defaultLimit : req.limit;
  let changesAfterId: bigint | undefined;
  if (req.changesAfterId !== '') {
    changesAfterId = parseId(req.changesAfterId);
    if (changesAfterId === undefined) throw new ParleyError('VALIDATION_FAILED', 'changes_after_id must be a message id (positive int64 as a decimal string)');
  }
  return { roomId, limit, ...idCursors(req.beforeId, req.afterId), changesAfterId };
}
