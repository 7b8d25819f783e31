import type { Client } from '@elastic/elasticsearch';
import { elasticNames, type ElasticNames } from '@parley/clients';

export { elasticNames, type ElasticNames };

/**
 * Message history in Elasticsearch.
 *
 *   template  <prefix>-messages-template   matches <prefix>-messages-*
 *   index     <prefix>-messages-000001     (rolled over to -000002 ... when the alias is rolled)
 *   alias     <prefix>-messages            write alias (is_write_index) and read alias
 *
 *   field          type      why
 *   id             keyword   snowflake id as a decimal string; also the document _id (idempotent writes)
 *   seq            long      the same id as a number, for sort and range (search_after cursors);
 *                            sent as a string, and a JS reader must not trust sort values past
 *                            2^53 as numbers (page on `id`, or ask for string sort values)
 *   room_id        keyword   every query filters by room (membership is checked before)
 *   sender_id      keyword   filter by sender
 *   sender_name    keyword   shown, filterable
 *   body           text      full text (standard analyzer)
 *   client_msg_id  keyword   the sender's retry key
 *   kind           keyword   message | edit | delete | reaction ...
 *   created_at     date      time derived from the id, epoch millis
 *   v              short     envelope version
 *
 * `dynamic: strict` makes an unexpected field a rejected document instead of a silent mapping
 * change: the worker sends such a record to the dead-letter topic.
 */
export function messagesMapping() {
  return {
    dynamic: 'strict' as const,
    properties: {
      id: { type: 'keyword' as const },
      seq: { type: 'long' as const },
      room_id: { type: 'keyword' as const },
      sender_id: { type: 'keyword' as const },
      sender_name: { type: 'keyword' as const },
      body: { type: 'text' as const },
      client_msg_id: { type: 'keyword' as const },
      kind: { type: 'keyword' as const },
      created_at: { type: 'date' as const, format: 'epoch_millis' },
      v: { type: 'short' as const },
    },
  };
}

/**
 * Installs (or updates) the index template and creates the first index behind the alias if the
 * alias does not exist yet. Safe to run any number of times.
 */
export async function installElasticTemplates(
  client: Client,
  prefix: string,
  opts: { shards?: number; replicas?: number } = {},
): Promise<{ createdIndex: boolean; names: ElasticNames }> {
  const names = elasticNames(prefix);
  await client.indices.putIndexTemplate({
    name: names.template,
    index_patterns: [names.pattern],
    priority: 100,
    template: {
      settings: { number_of_shards: opts.shards ?? 1, number_of_replicas: opts.replicas ?? 0, refresh_interval: '1s' },
      mappings: messagesMapping(),
    },
  });
  if (await client.indices.existsAlias({ name: names.alias })) return { createdIndex: false, names };
  try {
    await client.indices.create({ index: names.firstIndex, aliases: { [names.alias]: { is_write_index: true } } });
  } catch (err) {
    // Two installers racing: the loser sees resource_already_exists, which is the state we want.
    if ((err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
  return { createdIndex: true, names };
}

export async function removeElasticTemplates(client: Client, prefix: string): Promise<void> {
  const names = elasticNames(prefix);
  // ES 8 refuses wildcard deletes (action.destructive_requires_name): resolve the names first.
  const indices = Object.keys(await client.indices.get({ index: names.pattern, allow_no_indices: true, ignore_unavailable: true }));
  if (indices.length > 0) await client.indices.delete({ index: indices, ignore_unavailable: true });
  await client.indices.deleteIndexTemplate({ name: names.template }, { ignore: [404] });
}
