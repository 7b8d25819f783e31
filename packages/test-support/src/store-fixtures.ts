/**
 * Writes messages straight into the stores the query service reads, in the exact layout the
 * chat-command-* writers use (CQL row per (room_id, bucket, id), ES document = envelope + seq),
 * fast enough for benchmarks: one unlogged batch per partition slice, ES bulk in chunks.
 */
import cassandra from 'cassandra-driver';
import type { Client as EsClient } from '@elastic/elasticsearch';
import { toDocument } from '@parley/chat-command-elastic-svc/elastic-message-sink';
import type { MessageEvent } from '@parley/contracts';
import { newMessageEnvelope, Snowflake, type Envelope } from '@parley/envelope';
import { MessageTables, type EventWrites } from '@parley/message-store';

const CQL_BATCH = 100;
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
 * each partition's rows as unlogged batches, then their side rows (retry keys, replies, changes).
 */
export async function writeCql(client: cassandra.Client, keyspace: string, envs: Envelope[], concurrency = 8): Promise<void> {
  const tables = new MessageTables(keyspace);
  const byPartition = new Map<string, EventWrites[]>();
  for (const e of envs) {
    if (e.kind === 'erase') throw new Error('writeCql writes no erasures (the worker scans for them)');
    const w = tables.writesOf(e);
    const key = `${e.room_id}|${w.bucket}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), w]);
  }
  const batches: EventWrites[][] = [];
  for (const list of byPartition.values()) for (let i = 0; i < list.length; i += CQL_BATCH) batches.push(list.slice(i, i + CQL_BATCH));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      // Single-partition unlogged batch: one mutation, no batchlog.
      await client.batch(batch.map((w) => w.row), { prepare: true, logged: false });
      for (const s of batch.flatMap((w) => w.side)) await client.execute(s.query, s.params, { prepare: true });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function writeEs(client: EsClient, alias: string, envs: MessageEvent[], refresh = true): Promise<void> {
  for (let i = 0; i < envs.length; i += ES_CHUNK) {
    const chunk = envs.slice(i, i + ES_CHUNK);
    const res = await client.bulk({
      require_alias: true,
      operations: chunk.flatMap((e) => [{ index: { _index: alias, _id: e.id } }, toDocument(e)]),
    });
    if (res.errors) throw new Error(`bulk failed: ${JSON.stringify(res.items.find((x) => x.index?.error))}`);
  }
  if (refresh) await client.indices.refresh({ index: alias });
}
