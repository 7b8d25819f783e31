/**
 * Writes messages straight into the stores the query service reads, in the exact layout the
 * chat-command-* writers use (CQL row per (room_id, bucket, id), ES document = envelope + seq),
 * fast enough for benchmarks: one unlogged batch per partition slice, ES bulk in chunks.
 */
import cassandra from 'cassandra-driver';
import type { Client as EsClient } from '@elastic/elasticsearch';
import { toDocument } from '@parley/chat-command-elastic-svc/elastic-message-sink';
import { bucketOf, newMessageEnvelope, Snowflake, type Envelope } from '@parley/envelope';

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
export function makeEnvelopes(specs: MessageSpec[], instance = 7): Envelope[] {
  let clock = 0;
  const gen = new Snowflake({ instance, now: () => clock });
  return specs.map((s, i) => {
    clock = s.at;
    return newMessageEnvelope(gen.next(), { room_id: s.roomId, sender_id: s.senderId, sender_name: `name-${s.senderId.slice(0, 8)}`, body: s.body, client_msg_id: `c-${i}` });
  });
}

export async function writeCql(client: cassandra.Client, keyspace: string, envs: Envelope[], concurrency = 8): Promise<void> {
  const insert = `INSERT INTO ${keyspace}.messages (room_id, bucket, id, sender_id, sender_name, body, client_msg_id, kind, created_at, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const byPartition = new Map<string, Envelope[]>();
  for (const e of envs) {
    const key = `${e.room_id}|${bucketOf(BigInt(e.id))}`;
    const list = byPartition.get(key) ?? [];
    list.push(e);
    byPartition.set(key, list);
  }
  const batches: Envelope[][] = [];
  for (const list of byPartition.values()) for (let i = 0; i < list.length; i += CQL_BATCH) batches.push(list.slice(i, i + CQL_BATCH));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const queries = batch.map((e) => ({
        query: insert,
        params: [e.room_id, bucketOf(BigInt(e.id)), cassandra.types.Long.fromString(e.id), e.sender_id, e.sender_name, e.body, e.client_msg_id, e.kind, new Date(e.created_at), e.v],
      }));
      // Single-partition unlogged batch: one mutation, no batchlog.
      await client.batch(queries, { prepare: true, logged: false });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function writeEs(client: EsClient, alias: string, envs: Envelope[], refresh = true): Promise<void> {
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
