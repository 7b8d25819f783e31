import cassandra from 'cassandra-driver';
import { MessageTables, messageOfRow } from '@parley/message-store';
import type { Direction, PartitionReader, StoredMessage } from './bucket-walk.js';

/** Rows per page the driver fetches; a page request never needs more than QUERY_MAX_LIMIT + 1. */
const FETCH_SIZE = 500;

/**
 * Reads `<keyspace>.messages` (layout in cql/0001_messages.up.cql) one partition at a time.
 * Statements are prepared, so the driver knows the partition key of every execution and its
 * token-aware policy sends it straight to a replica; rows beyond one page are followed with
 * the driver's paging state instead of a larger LIMIT.
 */
export class CassandraPartitionReader implements PartitionReader {
  private readonly olderQuery: string;
  private readonly newerQuery: string;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
  ) {
    const tables = new MessageTables(keyspace);
    this.olderQuery = tables.selectOlder;
    this.newerQuery = tables.selectNewer;
  }

  async read(roomId: string, bucket: number, dir: Direction, bound: bigint, limit: number, readerId?: string): Promise<StoredMessage[]> {
    const query = dir === 'older' ? this.olderQuery : this.newerQuery;
    const params = [roomId, bucket, cassandra.types.Long.fromString(bound.toString()), limit];
    const out: StoredMessage[] = [];
    let pageState: string | undefined;
    do {
      const rs = await this.client.execute(query, params, {
        prepare: true,
        isIdempotent: true,
        fetchSize: Math.min(FETCH_SIZE, limit),
        ...(pageState ? { pageState } : {}),
      });
      for (const row of rs.rows) {
        // A row that only holds changes (its message is not stored yet) is not a message.
        const m = messageOfRow(row, readerId);
        if (m) out.push(m);
      }
      pageState = rs.pageState ?? undefined;
    } while (pageState && out.length < limit);
    return out;
  }
}
