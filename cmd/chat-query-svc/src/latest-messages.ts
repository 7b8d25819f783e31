import { parseId } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { afterAccess, type RoomAccess } from './access.js';
import { readPage, type Page, type PageRequest, type PartitionReader } from './bucket-walk.js';

export interface ListLimits {
  defaultLimit: number;
  maxLimit: number;
  skewMs: number;
  bucketMs: number;
}

/** Pages of one room by message id, straight from Cassandra: what the stream has stored, without ES lag. */
export interface LatestMessages {
  /** UNAUTHENTICATED, FORBIDDEN or NOT_FOUND from the access check win over any read error. */
  list(token: string, req: PageRequest): Promise<Page>;
}

/**
 * The one reader behind gRPC ListMessages and REST `/messages/latest`: both transports only
 * parse their input into a PageRequest and format the Page, so they cannot drift apart.
 */
export function latestMessages(deps: { access: RoomAccess; reader: PartitionReader; limits: ListLimits; now?: () => number }): LatestMessages {
  const { access, reader, limits } = deps;
  const now = deps.now ?? Date.now;
  return {
    list(token, req) {
      const read = async () => {
        const createdAt = await access.roomCreatedAt(req.roomId);
        return readPage(reader, req, { roomCreatedAtMs: createdAt, nowMs: now(), skewMs: limits.skewMs, bucketMs: limits.bucketMs });
      };
      return afterAccess(access.authorize(token, req.roomId), read());
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
