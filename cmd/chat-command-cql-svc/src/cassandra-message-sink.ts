import cassandra from 'cassandra-driver';
import { bucketOf, DEFAULT_BUCKET_MS, type Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import type { MessageSink } from '@parley/pipeline';

const codes = cassandra.types.responseErrorCodes;
/** Server answers that say "this statement can never succeed", as opposed to "not now". */
const REJECTING = new Set<number>([codes.syntaxError, codes.invalid]);

/**
 * Upserts envelopes into `<keyspace>.messages` (layout in cql/0001_messages.up.cql). An INSERT
 * on the full primary key is an upsert, so replaying a record rewrites the same row with the
 * same values: the write is idempotent and the statements are marked so, letting the driver
 * retry them on timeouts.
 */
export class CassandraMessageSink implements MessageSink {
  readonly name = 'cassandra';
  private readonly insert: string;

  constructor(
    private readonly client: cassandra.Client,
    keyspace: string,
    private readonly bucketMs: number = DEFAULT_BUCKET_MS,
  ) {
    this.insert = `INSERT INTO ${keyspace}.messages (room_id, bucket, id, sender_id, sender_name, body, client_msg_id, kind, created_at, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  }

  async write(envelopes: Envelope[]): Promise<Array<ParleyError | undefined>> {
    const settled = await Promise.allSettled(
      envelopes.map((e) => this.client.execute(this.insert, this.params(e), { prepare: true, isIdempotent: true })),
    );
    return settled.map((s) => (s.status === 'fulfilled' ? undefined : classify(s.reason)));
  }

  private params(e: Envelope): unknown[] {
    const id = BigInt(e.id);
    return [
      e.room_id,
      bucketOf(id, this.bucketMs),
      cassandra.types.Long.fromString(e.id),
      e.sender_id,
      e.sender_name,
      e.body,
      e.client_msg_id,
      e.kind,
      new Date(e.created_at),
      e.v,
    ];
  }
}

/**
 * Only an explicit rejection of the statement is final. Everything else (no host available,
 * timeouts, overloaded, unavailable, a connection reset) is the store being away: the record
 * passed envelope validation, so the failure is not about its content.
 */
export function classify(err: unknown): ParleyError {
  const e = err as { code?: number; message?: string };
  const message = e?.message ?? String(err);
  if (err instanceof cassandra.errors.ResponseError && typeof e.code === 'number' && REJECTING.has(e.code)) {
    return new ParleyError('POISON_MESSAGE', `cassandra rejected the write: ${message}`, { cause: err, canRetry: false, details: { reason: 'store_rejected' } });
  }
  return new ParleyError('DEPENDENCY_UNAVAILABLE', `cassandra write failed: ${message}`, { cause: err });
}
