/**
 * Every message of a drill's private keyspace and index in the model's terms (message-model.ts):
 * Cassandra rows as @parley/message-store computes their state for every reader (messageOfRow),
 * Elasticsearch documents as stored (body, version, deleted_at; ES keeps no reactions). Full
 * scans: only for the small keyspaces and indices of a drill or a test.
 */
import type { Client as CassandraClient } from 'cassandra-driver';
import type { Client as ElasticClient } from '@elastic/elasticsearch';
import { MESSAGE_COLUMNS, messageOfRow } from '@parley/message-store';
import type { StoredState } from './message-model.js';

const PAGE = 5000;

export async function cassandraStates(client: CassandraClient, keyspace: string): Promise<Map<string, StoredState>> {
  const out = new Map<string, StoredState>();
  await new Promise<void>((resolve, reject) => {
    client.eachRow(
      `SELECT ${MESSAGE_COLUMNS} FROM ${keyspace}.messages`,
      [],
      { prepare: true, fetchSize: PAGE, autoPage: true },
      (_n, row) => {
        const id = String(row.get('id'));
        const m = messageOfRow(row);
        if (!m) return void out.set(id, { body: '', version: 0, deleted: false, shell: true });
        const reactions: Record<string, number> = {};
        for (const r of m.reactions ?? []) reactions[r.emoji] = r.count;
        out.set(id, { body: m.body, version: m.version ?? 1, deleted: m.deleted_at !== undefined, reactions });
      },
      (err) => (err ? reject(err) : resolve()),
    );
  });
  return out;
}

interface Doc {
  body?: string;
  version?: number;
  deleted_at?: number;
  shell?: boolean;
}

/** Paged on the keyword `id` (a long sort value past 2^53 does not survive JSON). */
export async function elasticStates(client: ElasticClient, index: string): Promise<Map<string, StoredState>> {
  await client.indices.refresh({ index });
  const out = new Map<string, StoredState>();
  let after: Array<string | number> | undefined;
  for (;;) {
    const res = await client.search<Doc>({
      index,
      size: PAGE,
      _source: ['body', 'version', 'deleted_at', 'shell'],
      sort: [{ id: 'asc' }],
      ...(after ? { search_after: after } : {}),
    });
    for (const h of res.hits.hits) {
      const d = h._source ?? {};
      out.set(h._id!, { body: d.body ?? '', version: d.version ?? 0, deleted: d.deleted_at !== undefined, ...(d.shell ? { shell: true } : {}) });
    }
    if (res.hits.hits.length < PAGE) return out;
    after = res.hits.hits.at(-1)!.sort as Array<string | number>;
  }
}
