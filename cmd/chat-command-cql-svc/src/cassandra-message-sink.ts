import cassandra from 'cassandra-driver';
import { bucketOf, DEFAULT_BUCKET_MS, type Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import type { MessageSink } from '@parley/pipeline';

const codes = cassandra.types.responseErrorCodes;
/** Server answers that say "this statement can never succeed", as opposed to "not now". */
const REJECTING = new Set<number>([codes.syntaxError, codes.invalid]);

/** The narrow part of the driver the sink uses (a unit test can fake it). */
export type CqlSession = Pick<cassandra.Client, 'execute' | 'batch'>;

/**
 * Cassandra's default `batch_size_fail_threshold` is 50 KiB (ScyllaDB's is larger); a batch is
 * cut well below it. A row too big for a batch alone is written on its own.
 */
const BATCH_BUDGET_BYTES = 32 * 1024;
const ROW_OVERHEAD_BYTES = 128;

/**
 * Upserts envelopes into `<keyspace>.messages` (layout in cql/0001_messages.up.cql). An INSERT
 * on the full primary key is an upsert, so replaying a record rewrites the same row with the
 * same values: the write is idempotent and the statements are marked so, letting the driver
 * retry them on timeouts.
 *
 * Invariant: a room's rows become readable in the order of its records (Kafka order, which is
 * the stream's order for one ingestion instance), never a later one before an earlier one.
 * Rooms are written concurrently; inside a room, runs of rows of one partition go as one
 * unlogged single-partition batch (applied atomically and in isolation) and the runs go one
 * after another. A run that fails leaves every later row of its room unwritten and retryable,
 * so a retry cannot make a newer row visible before an older one either. The edge's join
 * relies on this as a second line: it also reads the stream over the whole span of a page.
 */
export class CassandraMessageSink implements MessageSink {
  readonly name = 'cassandra';
  private readonly insert: string;

  constructor(
    private readonly client: CqlSession,
    keyspace: string,
    private readonly bucketMs: number = DEFAULT_BUCKET_MS,
  ) {
    this.insert = `INSERT INTO ${keyspace}.messages (room_id, bucket, id, sender_id, sender_name, body, client_msg_id, kind, created_at, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  }

  async write(envelopes: Envelope[]): Promise<Array<ParleyError | undefined>> {
    const results: Array<ParleyError | undefined> = envelopes.map(() => undefined);
    const byRoom = new Map<string, number[]>();
    envelopes.forEach((e, i) => {
      const list = byRoom.get(e.room_id);
      if (list) list.push(i);
      else byRoom.set(e.room_id, [i]);
    });
    await Promise.all([...byRoom.values()].map((indexes) => this.writeRoom(envelopes, indexes, results)));
    return results;
  }

  /** One room's rows, run after run; stops at the first run the store could not take. */
  private async writeRoom(envelopes: Envelope[], indexes: number[], results: Array<ParleyError | undefined>): Promise<void> {
    const runs = this.runs(envelopes, indexes);
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      const err = await this.writeRun(envelopes, run, results);
      if (err) {
        const later = runs.slice(r + 1).flat();
        for (const i of later) results[i] = notAttempted(err);
        return;
      }
    }
  }

  /** Writes one run; returns the retryable error that stopped it, if any. */
  private async writeRun(envelopes: Envelope[], run: number[], results: Array<ParleyError | undefined>): Promise<ParleyError | undefined> {
    try {
      if (run.length === 1) await this.client.execute(this.insert, this.params(envelopes[run[0]!]!), { prepare: true, isIdempotent: true });
      else await this.client.batch(run.map((i) => ({ query: this.insert, params: this.params(envelopes[i]!) })), { prepare: true, logged: false, isIdempotent: true });
      return undefined;
    } catch (err) {
      const e = classify(err);
      if (e.canRetry) {
        for (const i of run) results[i] = e;
        return e;
      }
      if (run.length === 1) {
        results[run[0]!] = e;
        return undefined;
      }
      // The batch as a whole was refused: find the row that cannot be stored, keep the order.
      for (let k = 0; k < run.length; k++) {
        const stopped = await this.writeRun(envelopes, [run[k]!], results);
        if (stopped) {
          for (const i of run.slice(k + 1)) results[i] = notAttempted(stopped);
          return stopped;
        }
      }
      return undefined;
    }
  }

  /** Consecutive rows of one partition, cut by the batch budget. */
  private runs(envelopes: Envelope[], indexes: number[]): number[][] {
    const runs: number[][] = [];
    let run: number[] = [];
    let bucket: number | undefined;
    let bytes = 0;
    for (const i of indexes) {
      const e = envelopes[i]!;
      const b = bucketOf(BigInt(e.id), this.bucketMs);
      const size = Buffer.byteLength(e.body) + Buffer.byteLength(e.sender_name) + ROW_OVERHEAD_BYTES;
      if (run.length > 0 && (b !== bucket || bytes + size > BATCH_BUDGET_BYTES)) {
        runs.push(run);
        run = [];
        bytes = 0;
      }
      run.push(i);
      bucket = b;
      bytes += size;
    }
    if (run.length > 0) runs.push(run);
    return runs;
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

function notAttempted(cause: ParleyError): ParleyError {
  return new ParleyError('DEPENDENCY_UNAVAILABLE', 'not written: an earlier row of its room is still pending', { cause });
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
