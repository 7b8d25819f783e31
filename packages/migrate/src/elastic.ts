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
 *   kind           keyword   always message (changes are folded into their message)
 *   created_at     date      time derived from the id, epoch millis
 *   v              short     envelope version
 *   reply_to       keyword   the parent of a reply
 *   mentions       keyword   user ids the current body mentions (search filter, "mentions of me")
 *   version        integer   1 + the author's edits
 *   edited_at      date      the shown edit
 *   deleted_at     date      a deleted message stays (history shows it) without its text
 *   original_body, original_mentions   not indexed: what the body falls back to
 *   edits, deletes             not indexed: the change events folded in (the painless script
 *                              of chat-command-elastic-svc recomputes body/version from them)
 *   shell          boolean   a change whose message is not indexed yet: never shown
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
      reply_to: { type: 'keyword' as const },
      mentions: { type: 'keyword' as const },
      version: { type: 'integer' as const },
      edited_at: { type: 'date' as const, format: 'epoch_millis' },
      deleted_at: { type: 'date' as const, format: 'epoch_millis' },
      original_body: { type: 'text' as const, index: false },
      original_mentions: { type: 'keyword' as const, index: false },
      edits: { type: 'object' as const, enabled: false },
      deletes: { type: 'object' as const, enabled: false },
      shell: { type: 'boolean' as const },
    },
  };
}

/** One document per (room, user): erasures up to `up_to`; user `*` is the whole room. */
export function erasuresMapping() {
  return {
    dynamic: 'strict' as const,
    properties: { room_id: { type: 'keyword' as const }, user_id: { type: 'keyword' as const }, up_to: { type: 'long' as const } },
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
  await createIfMissing(client, names.erasures, erasuresMapping());
  if (await client.indices.existsAlias({ name: names.alias })) {
    // The template only shapes new indices: fields added since reach the live one here.
    await client.indices.putMapping({ index: names.alias, ...messagesMapping() });
    return { createdIndex: false, names };
  }
  try {
    await client.indices.create({ index: names.firstIndex, aliases: { [names.alias]: { is_write_index: true } } });
  } catch (err) {
    // Two installers racing: the loser sees resource_already_exists, which is the state we want.
    if ((err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
  return { createdIndex: true, names };
}

async function createIfMissing(client: Client, index: string, mappings: ReturnType<typeof erasuresMapping>): Promise<void> {
  if (await client.indices.exists({ index })) return;
  try {
    await client.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings });
  } catch (err) {
    if ((err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw err;
  }
}

export async function removeElasticTemplates(client: Client, prefix: string): Promise<void> {
  const names = elasticNames(prefix);
  // ES 8 refuses wildcard deletes (action.destructive_requires_name): resolve the names first.
  const indices = Object.keys(await client.indices.get({ index: names.pattern, allow_no_indices: true, ignore_unavailable: true }));
  if (indices.length > 0) await client.indices.delete({ index: indices, ignore_unavailable: true });
  await client.indices.delete({ index: names.erasures, ignore_unavailable: true });
  await client.indices.deleteIndexTemplate({ name: names.template }, { ignore: [404] });
}
