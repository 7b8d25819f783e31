/**
 * Writes messages straight into the stores the query service reads, in the exact layout the
 * chat-command-* writers use (CQL row per (room_id, bucket, id), ES document = envelope + seq),
 * with the writers' own statements and documents: one unlogged batch per partition slice (cut
 * by the CQL worker's byte budget) followed by its side rows, ES bulk in chunks. Fast enough
 * for loading benchmark data, and what bench/pipeline.ts times as the stores' own rates.
 */
import cassandra from 'cassandra-driver';
import type { Client as EsClient } from '@elastic/elasticsearch';
import { foldEvent } from '@parley/chat-command-elastic-svc/elastic-message-sink';
import type { MessageEvent } from '@parley/contracts';
import { newMessageEnvelope, Snowflake, type Envelope } from '@parley/envelope';
import { BATCH_BUDGET_BYTES, InFlight, MessageTables, rowBytesOf, type EventWrites } from '@parley/message-store';

const ES_CHUNK = 5000;

export interface MessageSpec {
  roomId: string;
  senderId: string;
  body: string;
  /** Epoch ms the id encodes. */
  at: number;
}

/** Envelopes with ids encoding `at` (strictly increasing within one call). */
export function makeEnvelopes(specs: MessageSpec[], instance = 7): MessageEvent[] {
  let clock = 0;
  const gen = new Snowflake({ instance, now: () => clock });
  return specs.map((s, i) => {
    clock = s.at;
    return newMessageEnvelope(gen.next(), { room_id: s.roomId, sender_id: s.senderId, sender_name: `name-${s.senderId.slice(0, 8)}`, body: s.body, client_msg_id: `c-${i}` });
  });
}

/**
 * Writes events with the statements chat-command-cql-svc writes them with (@parley/message-store):
 * each partition's rows as unlogged batches cut by the worker's byte budget, then their side rows
 * (retry keys, replies, changes) all at once, as the worker does; `concurrency` batches in flight.
 */
export async function writeCql(client: cassandra.Client, keyspace: string, envs: Envelope[], concurrency = 8): Promise<void> {
  const tables = new MessageTables(keyspace);
  const byPartition = new Map<string, Array<{ w: EventWrites; bytes: number }>>();
  for (const e of envs) {
    if (e.kind === 'erase') throw new Error('writeCql writes no erasures (the worker scans for them)');
    const w = tables.writesOf(e);
    const key = `${e.room_id}|${w.bucket}`;
    const list = byPartition.get(key);
    if (list) list.push({ w, bytes: rowBytesOf(e) });
    else byPartition.set(key, [{ w, bytes: rowBytesOf(e) }]);
  }
  const batches: EventWrites[][] = [];
  for (const list of byPartition.values()) {
    let batch: EventWrites[] = [];
    let bytes = 0;
    for (const x of list) {
      if (batch.length > 0 && bytes + x.bytes > BATCH_BUDGET_BYTES) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(x.w);
      bytes += x.bytes;
    }
    if (batch.length > 0) batches.push(batch);
  }
  // The worker's bound on its statements in flight (the driver refuses more than it holds).
  const inFlight = new InFlight();
  const exec = (q: string, params: unknown[]) => inFlight.run(() => client.execute(q, params, { prepare: true, isIdempotent: true }));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      // Single-partition unlogged batch: one mutation, no batchlog.
      if (batch.length === 1) await exec(batch[0]!.row.query, batch[0]!.row.params);
      else await inFlight.run(() => client.batch(batch.map((w) => w.row), { prepare: true, logged: false, isIdempotent: true }));
      await Promise.all(batch.flatMap((w) => w.side).map((s) => exec(s.query, s.params)));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Indexes messages as chat-command-elastic-svc's first write of each (`create` of the folded
 * document), `chunk` documents per bulk request, `concurrency` requests in flight.
 */
export async function writeEs(
  client: EsClient,
  alias: string,
  envs: MessageEvent[],
  opts: { refresh?: boolean; chunk?: number; concurrency?: number } | boolean = {},
): Promise<void> {
  const { refresh = true, chunk = ES_CHUNK, concurrency = 1 } = typeof opts === 'boolean' ? { refresh: opts } : opts;
  const chunks: MessageEvent[][] = [];
  for (let i = 0; i < envs.length; i += chunk) chunks.push(envs.slice(i, i + chunk));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const docs = chunks[next++]!;
      const res = await client.bulk({
        require_alias: true,
        operations: docs.flatMap((e) => [{ create: { _index: alias, _id: e.id } }, foldEvent(undefined, e)]),
      });
      if (res.errors) throw new Error(`bulk failed: ${JSON.stringify(res.items.find((x) => x.create?.error))}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (refresh) await client.indices.refresh({ index: alias });
}
