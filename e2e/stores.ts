/**
 * What the two stores hold, read directly (not through chat-query-svc), so a drill can compare
 * them with what clients were acknowledged.
 */
import type { Client as CassandraClient } from 'cassandra-driver';
import type { Client as ElasticClient } from '@elastic/elasticsearch';

/** Every message id in the keyspace's table, one entry per row. Only for small, private keyspaces. */
export async function cassandraIds(client: CassandraClient, keyspace: string): Promise<string[]> {
  const out: string[] = [];
  await new Promise<void>((resolve, reject) => {
    client.eachRow(
      `SELECT id FROM ${keyspace}.messages`,
      [],
      { prepare: true, fetchSize: 5000, autoPage: true },
      (_n, row) => out.push(String(row.get('id'))),
      (err) => (err ? reject(err) : resolve()),
    );
  });
  return out;
}

/**
 * Every document id behind the alias, one entry per document. Paged on the keyword `id`: sort
 * values of the long `seq` above 2^53 come back rounded and would repeat or skip at page edges.
 */
export async function elasticIds(client: ElasticClient, alias: string): Promise<string[]> {
  await client.indices.refresh({ index: alias });
  const out: string[] = [];
  let after: Array<string | number> | undefined;
  for (;;) {
    const res = await client.search({ index: alias, size: 5000, _source: false, sort: [{ id: 'asc' }], ...(after ? { search_after: after } : {}) });
    const hits = res.hits.hits;
    out.push(...hits.map((h) => h._id!));
    if (hits.length < 5000) return out;
    after = hits[hits.length - 1]!.sort as Array<string | number>;
  }
}

export interface Tally {
  rows: number;
  distinct: number;
  /** Expected ids present. */
  found: number;
  missing: number;
  /** Ids stored more than once. */
  duplicated: number;
  /** Stored ids nobody was acknowledged. */
  unexpected: number;
}

export function tally(stored: string[], expected: ReadonlySet<string>): Tally {
  const seen = new Map<string, number>();
  for (const id of stored) seen.set(id, (seen.get(id) ?? 0) + 1);
  let found = 0;
  for (const id of expected) if (seen.has(id)) found++;
  let duplicated = 0;
  let unexpected = 0;
  for (const [id, n] of seen) {
    if (n > 1) duplicated++;
    if (!expected.has(id)) unexpected++;
  }
  return { rows: stored.length, distinct: seen.size, found, missing: expected.size - found, duplicated, unexpected };
}
