import cassandra from 'cassandra-driver';
import { MAX_LISTED_REACTORS, type MessageChanged } from '@parley/contracts';
import { bucketOf, DEFAULT_BUCKET_MS, firstIdAt, SNOWFLAKE_EPOCH_MS, type Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { BATCH_BUDGET_BYTES, deletionOf, InFlight, long, MessageTables, rowBytesOf, messageOfRow, reactionsOf, type CqlStatement, type EventWrites } from '@parley/message-store';
import { ErasureRegistry, type MessageSink } from '@parley/pipeline';

const codes = cassandra.types.responseErrorCodes;
/** Server answers that say "this statement can never succeed", as opposed to "not now". */
const REJECTING = new Set<number>([codes.syntaxError, codes.invalid]);

/** The narrow part of the driver the sink uses (a unit test can fake it). */
export type CqlSession = Pick<cassandra.Client, 'execute' | 'batch'>;

/** Tells the room what a change made of a message (NATS, see ChangeAnnouncer). */
export interface ChangeNotifier {
  announce(roomId: string, changes: MessageChanged[]): Promise<void>;
}

const MAX_ID = (1n << 63n) - 1n;

type Plan = { kind: 'writes'; index: number; writes: EventWrites } | { kind: 'erase'; index: number; env: Extract<Envelope, { kind: 'erase' }> };

/**
 * Projects the log into `<keyspace>.messages` and its side tables (layout: cql/0001, 0002;
 * statements: @parley/message-store). Every write is a blind, idempotent write at the event's
 * own timestamp, so a replay of any record, or of the whole log, gives the same rows.
 *
 * Invariant: a room's rows become readable in the order of its records, never a later one
 * before an earlier one. Rooms are written concurrently; inside a room, runs of events on one
 * partition go as one unlogged single-partition batch (atomic and isolated), then their side
 * writes, run after run. A run that fails leaves every later event of its room unwritten and
 * retryable. The edge's join relies on this as a second line (it also reads the stream).
 *
 * After a room's events are written, the messages they changed are read back and announced
 * (when a notifier is given); a failed announcement retries the room's events, whose writes are
 * idempotent, so every change is announced at least once.
 *
 * Two checks need what only the store knows: a delete purges the text only when the stored
 * author (or the owner flag) allows it, and an erasure (scan of the room's partitions) is
 * remembered in `erasures`, so an older event replayed later is skipped rather than revived.
 */
export class CassandraMessageSink implements MessageSink {
  readonly name = 'cassandra';
  private readonly tables: MessageTables;
  private readonly erasures = new ErasureRegistry();
  /** Every statement of the sink goes through it: rooms, runs and side rows fan out at once. */
  private readonly inFlight = new InFlight();

  constructor(
    private readonly client: CqlSession,
    keyspace: string,
    private readonly bucketMs: number = DEFAULT_BUCKET_MS,
    private readonly notifier?: ChangeNotifier,
  ) {
    this.tables = new MessageTables(keyspace, bucketMs);
  }

  async write(envelopes: Envelope[]): Promise<Array<ParleyError | undefined>> {
    const results: Array<ParleyError | undefined> = envelopes.map(() => undefined);
    try {
      await this.loadErasures();
    } catch (err) {
      const e = classify(err);
      return envelopes.map(() => e);
    }
    const byRoom = new Map<string, number[]>();
    envelopes.forEach((e, i) => {
      const list = byRoom.get(e.room_id);
      if (list) list.push(i);
      else byRoom.set(e.room_id, [i]);
    });
    await Promise.all([...byRoom.values()].map((indexes) => this.writeRoom(envelopes, indexes, results)));
    return results;
  }

  /**
   * One room's events, run after run; stops at the first run the store could not take. A run's
   * side rows (retry keys, changes, reply sets, purges) are written while the next runs' rows
   * go: only the order of the rows is the invariant. A side row that fails for now makes its
   * event and every later one of the room retryable (rewriting their rows is harmless).
   */
  private async writeRoom(envelopes: Envelope[], indexes: number[], results: Array<ParleyError | undefined>): Promise<void> {
    const runs = this.runs(envelopes, indexes);
    const tails: Array<Promise<void>> = [];
    let stopped = false;
    for (let r = 0; r < runs.length; r++) {
      const run = runs[r]!;
      // An erasure scans what is stored: everything before it is written first.
      if (run[0]!.kind === 'erase') await Promise.all(tails);
      const err = await this.writeRun(run, results, tails);
      if (err) {
        for (const p of runs.slice(r + 1).flat()) results[p.index] = notAttempted(err);
        stopped = true;
        break;
      }
    }
    await Promise.all(tails);
    const first = indexes.findIndex((i) => results[i]?.canRetry === true);
    if (first >= 0) {
      const cause = results[indexes[first]!]!;
      for (const i of indexes.slice(first + 1)) if (results[i] === undefined) results[i] = notAttempted(cause);
      stopped = true;
    }
    if (stopped) return;
    const changed = new Map<bigint, bigint>();
    for (const p of runs.flat()) {
      if (p.kind !== 'writes' || results[p.index] !== undefined) continue;
      for (const id of p.writes.changed) changed.set(id, BigInt(envelopes[p.index]!.id));
    }
    if (!this.notifier || changed.size === 0) return;
    const roomId = envelopes[indexes[0]!]!.room_id;
    try {
      await this.notifier.announce(roomId, await this.readChanged(roomId, changed));
    } catch (err) {
      const e = err instanceof ParleyError ? err : classify(err);
      const retry = e.canRetry ? e : new ParleyError('DEPENDENCY_UNAVAILABLE', e.message, { cause: err });
      for (const i of indexes) if (results[i] === undefined) results[i] = retry;
    }
  }

  /** Writes one run's rows and queues its side rows on `tails`; returns the retryable error that stopped it, if any. */
  private async writeRun(run: Plan[], results: Array<ParleyError | undefined>, tails: Array<Promise<void>>): Promise<ParleyError | undefined> {
    try {
      if (run.length === 1 && run[0]!.kind === 'erase') await this.erase(run[0]!.env);
      else {
        const writes = run.map((p) => (p as Extract<Plan, { kind: 'writes' }>).writes);
        if (writes.length === 1) await this.exec(writes[0]!.row);
        else await this.inFlight.run(() => this.client.batch(writes.map((w) => w.row), { prepare: true, logged: false, isIdempotent: true }));
        tails.push(this.writeSides(run, results));
      }
      return undefined;
    } catch (err) {
      const e = err instanceof ParleyError ? err : classify(err);
      if (e.canRetry) {
        for (const p of run) results[p.index] = e;
        return e;
      }
      if (run.length === 1) {
        results[run[0]!.index] = e;
        return undefined;
      }
      // The batch as a whole was refused: find the event that cannot be stored, keep the order.
      for (let k = 0; k < run.length; k++) {
        const stopped = await this.writeRun([run[k]!], results, tails);
        if (stopped) {
          for (const p of run.slice(k + 1)) results[p.index] = notAttempted(stopped);
          return stopped;
        }
      }
      return undefined;
    }
  }

  /** The side rows of a written run, each event's on its own; a failure is its event's result (never thrown). */
  private async writeSides(run: Plan[], results: Array<ParleyError | undefined>): Promise<void> {
    await Promise.all(
      run.map(async (p) => {
        if (p.kind !== 'writes') return;
        try {
          await Promise.all(p.writes.side.map((s) => this.exec(s)));
          // A delete purges the text only if the stored author (or the owner flag) makes it count.
          if (p.writes.kind === 'delete') await this.purgeIfDeleted(p.writes.roomId, p.writes.messageId);
        } catch (err) {
          results[p.index] = err instanceof ParleyError ? err : classify(err);
        }
      }),
    );
  }

  private async purgeIfDeleted(roomId: string, messageId: bigint): Promise<void> {
    const row = await this.readRow(roomId, messageId);
    const sender = row?.get('sender_id') as string | null | undefined;
    if (row && sender && deletionOf(row, sender) !== undefined) await this.exec(this.tables.purgeOf(roomId, messageId));
  }

  /**
   * Erases the room's messages (of one user, or all) that precede the erasure in the log, and
   * remembers the event's id: a replay of anything older is skipped from then on.
   */
  private async erase(env: Extract<Envelope, { kind: 'erase' }>): Promise<void> {
    const upTo = BigInt(env.id);
    const who = env.erase_user_id ?? '*';
    await this.exec(this.tables.erasureOf(env.room_id, who, upTo));
    this.erasures.remember({ roomId: env.room_id, userId: who, upTo });
    const first = bucketOf(firstIdAt(SNOWFLAKE_EPOCH_MS), this.bucketMs);
    for (let b = bucketOf(upTo, this.bucketMs) + 1; b >= first; b--) {
      let pageState: string | undefined;
      do {
        // Everything of theirs stored by now: the log put it before the erasure, whatever its id.
        const rs = await this.client.execute(this.tables.selectSenders, [env.room_id, b, long(MAX_ID)], { prepare: true, fetchSize: 1000, ...(pageState ? { pageState } : {}) });
        const doomed = rs.rows.filter((r) => who === '*' || r.get('sender_id') === who);
        await Promise.all(
          doomed.flatMap((r) => {
            const replyTo = r.get('reply_to') as cassandra.types.Long | null;
            return this.tables.eraseOf(env.room_id, BigInt(r.get('id').toString()), replyTo ? BigInt(replyTo.toString()) : undefined).map((s) => this.exec(s));
          }),
        );
        pageState = rs.pageState ?? undefined;
      } while (pageState);
    }
  }

  private async readChanged(roomId: string, changed: Map<bigint, bigint>): Promise<MessageChanged[]> {
    const out: MessageChanged[] = [];
    await Promise.all(
      [...changed].map(async ([id, eventId]) => {
        const row = await this.readRow(roomId, id);
        const message = row ? messageOfRow(row) : undefined;
        if (!row || !message) return;
        const reactors: Record<string, string[]> = {};
        if (message.deleted_at === undefined) for (const [emoji, users] of reactionsOf(row).reactors) reactors[emoji] = users.slice(0, MAX_LISTED_REACTORS);
        out.push({ event_id: eventId.toString(), message, reactors });
      }),
    );
    return out;
  }

  private async readRow(roomId: string, id: bigint): Promise<cassandra.types.Row | undefined> {
    const rs = await this.client.execute(this.tables.selectOne, [roomId, this.tables.bucketOf(id), long(id)], { prepare: true, isIdempotent: true });
    return rs.first() ?? undefined;
  }

  private exec(s: CqlStatement) {
    return this.inFlight.run(() => this.client.execute(s.query, s.params, { prepare: true, isIdempotent: true }));
  }

  private async loadErasures(): Promise<void> {
    if (!this.erasures.stale()) return;
    const rs = await this.client.execute(this.tables.selectErasures, [], { prepare: true, fetchSize: 5000 });
    this.erasures.replace(
      rs.rows.map((r) => ({ roomId: r.get('room_id') as string, userId: r.get('user_id') as string, upTo: BigInt((r.get('up_to') as cassandra.types.Long).toString()) })),
    );
  }

  /** Consecutive events on one partition, cut by the batch budget; an erasure runs alone. */
  private runs(envelopes: Envelope[], indexes: number[]): Plan[][] {
    const runs: Plan[][] = [];
    let run: Plan[] = [];
    let bucket: number | undefined;
    let bytes = 0;
    const cut = () => {
      if (run.length > 0) runs.push(run);
      run = [];
      bytes = 0;
    };
    for (const index of indexes) {
      const env = envelopes[index]!;
      if (this.erasures.covers(env)) continue;
      if (env.kind === 'erase') {
        cut();
        runs.push([{ kind: 'erase', index, env }]);
        continue;
      }
      const writes = this.tables.writesOf(env);
      const size = rowBytesOf(env);
      if (run.length > 0 && (writes.bucket !== bucket || bytes + size > BATCH_BUDGET_BYTES)) cut();
      run.push({ kind: 'writes', index, writes });
      bucket = writes.bucket;
      bytes += size;
    }
    cut();
    return runs;
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
