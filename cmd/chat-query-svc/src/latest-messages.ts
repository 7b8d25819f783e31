import { parseId } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import type { Message } from '@parley/contracts';
import { afterAccess, type RoomAccess } from './access.js';
import { readPage, type Page, type PageRequest, type PartitionReader } from './bucket-walk.js';
import type { MessageReads } from './message-reads.js';

export interface ListLimits {
  defaultLimit: number;
  maxLimit: number;
  skewMs: number;
  bucketMs: number;
}

export interface LatestRequest extends PageRequest {
  /** Also the changes of messages up to this id made since about its time (a resume). */
  changesAfterId?: bigint | undefined;
}

export interface LatestPage extends Page {
  changed: Message[];
  changesTruncated: boolean;
}

/** Pages of one room by message id, straight from Cassandra: what the stream has stored, without ES lag. */
export interface LatestMessages {
  /** UNAUTHENTICATED, FORBIDDEN or NOT_FOUND from the access check win over any read error. */
  list(token: string, req: LatestRequest): Promise<LatestPage>;
}

/**
 * The one reader behind gRPC ListMessages and REST `/messages/latest`: both transports only
 * parse their input into a PageRequest and format the Page, so they cannot drift apart.
 */
export function latestMessages(deps: { access: RoomAccess; reader: PartitionReader; reads?: MessageReads; limits: ListLimits; now?: () => number }): LatestMessages {
  const { access, reader, reads, limits } = deps;
  const now = deps.now ?? Date.now;
  return {
    async list(token, req) {
      const { userId } = await access.identify(token);
      const read = async (): Promise<LatestPage> => {
        const createdAt = await access.roomCreatedAt(req.roomId);
        const [page, changes] = await Promise.all([
          readPage(reader, { ...req, readerId: userId }, { roomCreatedAtMs: createdAt, nowMs: now(), skewMs: limits.skewMs, bucketMs: limits.bucketMs }),
          req.changesAfterId !== undefined && reads ? reads.changedSince(req.roomId, req.changesAfterId, limits.skewMs, req.limit, userId) : undefined,
        ]);
        return { ...page, changed: changes?.messages ?? [], changesTruncated: changes?.truncated ?? false };
      };
      return afterAccess(access.requireMember(req.roomId, userId), read());
    },
  };
}

/**
 * The cursor pair both transports accept: exclusive decimal snowflake ids, at most one given.
 * Empty or absent means "not given" (proto3 strings cannot be absent).
 */
export function idCursors(beforeId: string | undefined, afterId: string | undefined): Pick<PageRequest, 'beforeId' | 'afterId'> {
  if (beforeId && afterId) throw new ParleyError('VALIDATION_FAILED', 'give before_id or after_id, not both');
  const cursor = (name: string, s: string | undefined) => {
    if (!s) return undefined;
    const id = parseId(s);
    if (id === undefined) throw new ParleyError('VALIDATION_FAILED', `${name} must be a message id (positive int64 as a decimal string)`);
    return id;
  };
  return { beforeId: cursor('before_id', beforeId), afterId: cursor('after_id', afterId) };
}
