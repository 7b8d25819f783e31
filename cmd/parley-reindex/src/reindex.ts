import type { Client } from '@elastic/elasticsearch';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { elasticNames, type ElasticNames } from '@parley/clients';
import { ElasticMessageSink } from '@parley/chat-command-elastic-svc/elastic-message-sink';
import { firstIdAt, type Envelope } from '@parley/envelope';
import type { Logger } from '@parley/log';
import { erasuresMapping, installElasticTemplates } from '@parley/migrate';
import { consumerLag, KafkaDeadLetterSink, SinkWorker, type DeadLetterSink, type MessageSink } from '@parley/pipeline';

/**
 * `make reindex`: Elasticsearch rebuilt from the Kafka log into a new index while chat goes on.
 *
 *   1. the template is installed as the code has it now (a changed mapping takes effect in the
 *      new index only); the alias's indices are the old ones
 *   2. new index <prefix>-messages-<n+1> from the template, refresh off, reachable only through
 *      its own alias <prefix>-reindex-<n+1> (the sink writes with require_alias, so the rebuild
 *      needs an alias of its own; it never touches the live alias)
 *   3. a rebuild worker (the elastic command worker's SinkWorker and ElasticMessageSink) in a
 *      consumer group of its own, from the start of the topic, into that alias; erasures it
 *      replays are remembered in an erasures index of its own, so the live one is not rewritten
 *   4. when the rebuild's lag is at most `switchLag` records: refresh back on, then a guard:
 *      every message older than `guardAgeMs` the old index shows must be in the new one (else
 *      nothing is switched: the log lost records to retention, or the new mapping refused some)
 *   5. one atomic alias update moves the live alias (read and write) from the old indices to the
 *      new one. From here the live worker (its group untouched) writes into the new index too;
 *      both fold events order-free and idempotently and guard writes by sequence number, so two
 *      writers converge (a conflict is retried on a fresh read)
 *   6. the rebuild keeps going until its committed offsets reach the end offsets read right
 *      after the switch: every record logged before the switch is then in the new index, and
 *      every later one is written by the live worker. Then the rebuild stops, its group, alias
 *      and erasures index are removed; the old indices are kept for a rollback (or deleted)
 *
 * Search answers from the old index until step 5 and from the caught-up new one after: it never
 * answers from an empty index. What a rebuild can reach is what the topic still holds: a topic
 * whose retention deleted records (low watermark above 0) is refused unless `allowTruncated`.
 */
export interface ReindexOptions {
  prefix: string;
  topic: string;
  dlqTopic: string;
  /** The live worker's group: the rebuild's group is named after it. */
  groupId: string;
  maxBodyBytes: number;
  bulkMaxDocs: number;
  switchLag: number;
  guardAgeMs: number;
  timeoutMs: number;
  oldIndices: 'keep' | 'delete';
  allowTruncated: boolean;
  pollMs?: number;
}

export interface ReindexReport {
  oldIndices: string[];
  newIndex: string;
  group: string;
  /** Log records the rebuild wrote (events folded: messages and their changes). */
  records: number;
  /** Documents in the new index when the rebuild had caught up. */
  documents: number;
  rebuildSeconds: number;
  docsPerSecond: number;
  recordsPerSecond: number;
  /** The guard of step 4: messages older than guardAgeMs in the old and in the new index. */
  guard: { old: number; new: number };
  deadLetters: number;
  switchedAt: number;
  /** From the switch until the rebuild had written everything logged before it. */
  drainSeconds: number;
}

export class ReindexError extends Error {
  override readonly name = 'ReindexError';
}

interface Deps {
  es: Client;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  log: Logger;
}

export async function reindex(deps: Deps, o: ReindexOptions): Promise<ReindexReport> {
  const { es, admin, log } = deps;
  const names = elasticNames(o.prefix);
  await installElasticTemplates(es, o.prefix);
  await refuseTruncatedLog(admin, o);
  const oldIndices = Object.keys(await es.indices.getAlias({ name: names.alias }));
  const existing = Object.keys(await es.indices.get({ index: names.pattern, allow_no_indices: true, ignore_unavailable: true }));
  const newIndex = nextIndexName(names, existing);
  const suffix = newIndex.slice(names.alias.length + 1);
  const rebuildAlias = `${o.prefix}-reindex-${suffix}`;
  const erasures = `${o.prefix}-erasures-reindex-${suffix}`;
  const group = `${o.groupId}.reindex.${suffix}`;
  const refresh = await templateRefreshInterval(es, names);
  await es.indices.create({ index: newIndex, settings: { refresh_interval: '-1' }, aliases: { [rebuildAlias]: {} } });
  await es.indices.create({ index: erasures, settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: erasuresMapping() });
  log.info({ oldIndices, newIndex, group }, 'rebuilding from the start of the log');

  let records = 0;
  let deadLetters = 0;
  const inner = new ElasticMessageSink(es, rebuildAlias, erasures);
  const sink: MessageSink = { name: inner.name, write: (envs: Envelope[]) => ((records += envs.length), inner.write(envs)) };
  const dlq = new KafkaDeadLetterSink(deps.producer, o.dlqTopic, log.child({ component: 'dlq' }));
  const counted: DeadLetterSink = { send: (letters, signal) => ((deadLetters += letters.length), dlq.send(letters, signal)) };
  let fatal: unknown;
  const worker = new SinkWorker({
    kafka: deps.kafka,
    topic: o.topic,
    groupId: group,
    sink,
    deadLetters: counted,
    log: log.child({ component: 'rebuild-worker' }),
    service: 'parley-reindex',
    maxBatch: o.bulkMaxDocs,
    maxWaitMs: 250,
    minBytes: o.bulkMaxDocs * 256,
    maxBodyBytes: o.maxBodyBytes,
    onFatal: (err) => (fatal = err),
  });
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const poll = o.pollMs ?? 1000;
  let switched = false;
  try {
    await worker.start();
    for (let lastLog = 0; ; await sleep(poll)) {
      if (fatal) throw new ReindexError(`the rebuild worker failed: ${(fatal as Error).message}`);
      if (Date.now() > deadline) throw new ReindexError(`the rebuild did not catch up within ${o.timeoutMs} ms`);
      const lag = sum(await consumerLag(admin, group, o.topic));
      if (lag <= o.switchLag) break;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log.info({ records, lag, recordsPerSecond: Math.round(records / ((Date.now() - started) / 1000)) }, 'rebuilding');
      }
    }
    const rebuildSeconds = (Date.now() - started) / 1000;
    await es.indices.putSettings({ index: newIndex, settings: { refresh_interval: refresh } });
    await es.indices.refresh({ index: [newIndex, ...oldIndices] });
    const documents = (await es.count({ index: newIndex })).count;
    const guard = await olderThan(es, names.alias, newIndex, o.guardAgeMs);
    if (guard.new < guard.old) {
      throw new ReindexError(`the new index holds ${guard.new} messages older than ${o.guardAgeMs} ms, the old one ${guard.old}: not switching (dead letters of the rebuild: ${deadLetters})`);
    }
    await es.indices.updateAliases({
      actions: [...oldIndices.map((index) => ({ remove: { index, alias: names.alias } })), { add: { index: newIndex, alias: names.alias, is_write_index: true } }],
    });
    switched = true;
    const switchedAt = Date.now();
    log.info({ newIndex, oldIndices, documents, guard }, 'alias switched');
    const ends = await admin.fetchTopicOffsets(o.topic);
    while (!(await reached(admin, group, o.topic, ends))) {
      if (fatal) throw new ReindexError(`the rebuild worker failed after the switch: ${(fatal as Error).message}`);
      if (Date.now() > deadline) throw new ReindexError('the rebuild did not reach the end offsets of the switch in time');
      await sleep(Math.min(poll, 200));
    }
    const drainSeconds = (Date.now() - switchedAt) / 1000;
    return { oldIndices, newIndex, group, records, documents, rebuildSeconds, docsPerSecond: documents / rebuildSeconds, recordsPerSecond: records / rebuildSeconds, guard, deadLetters, switchedAt, drainSeconds };
  } finally {
    await worker.stop().catch((err: unknown) => log.warn({ err }, 'rebuild worker did not stop cleanly'));
    await admin.deleteGroups([group]).catch((err: unknown) => log.warn({ err, group }, 'rebuild group not deleted'));
    await es.indices.delete({ index: erasures, ignore_unavailable: true }).catch(() => undefined);
    if (switched) {
      await es.indices.deleteAlias({ index: newIndex, name: rebuildAlias }).catch(() => undefined);
      if (o.oldIndices === 'delete') await es.indices.delete({ index: oldIndices, ignore_unavailable: true });
    } else {
      // Nothing was switched: the new index is not behind the live alias, and goes.
      await es.indices.delete({ index: newIndex, ignore_unavailable: true }).catch(() => undefined);
    }
  }
}

/** `<alias>-000001` style names: one past the highest number behind the pattern. */
export function nextIndexName(names: ElasticNames, existing: readonly string[]): string {
  let highest = 0;
  for (const name of existing) {
    const m = new RegExp(`^${escape(names.alias)}-(\\d+)$`).exec(name);
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return `${names.alias}-${String(highest + 1).padStart(6, '0')}`;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** A rebuild from a log that lost its beginning would silently lose history. */
async function refuseTruncatedLog(admin: Admin, o: ReindexOptions): Promise<void> {
  const truncated = (await admin.fetchTopicOffsets(o.topic)).filter((p) => Number(p.low) > 0);
  if (truncated.length === 0 || o.allowTruncated) return;
  const where = truncated.map((p) => `${p.partition}@${p.low}`).join(', ');
  throw new ReindexError(`${o.topic} no longer starts at offset 0 (partition@first offset: ${where}); its retention deleted records a rebuild would need. REINDEX_ALLOW_TRUNCATED=yes rebuilds what is left`);
}

async function templateRefreshInterval(es: Client, names: ElasticNames): Promise<string> {
  const res = await es.indices.getIndexTemplate({ name: names.template });
  const settings = res.index_templates[0]?.index_template.template?.settings as { refresh_interval?: string; index?: { refresh_interval?: string } } | undefined;
  return settings?.index?.refresh_interval ?? settings?.refresh_interval ?? '1s';
}

/** Shown messages (no shells) older than `ageMs` by their id, in the live alias and in `index`. */
async function olderThan(es: Client, alias: string, index: string, ageMs: number): Promise<{ old: number; new: number }> {
  const query = { bool: { filter: [{ range: { seq: { lt: firstIdAt(Date.now() - ageMs).toString() } } }], must_not: [{ term: { shell: true } }] } };
  const [old, fresh] = await Promise.all([es.count({ index: alias, query }), es.count({ index, query })]);
  return { old: old.count, new: fresh.count };
}

/** The group's committed offsets are at or past `ends` on every partition. */
async function reached(admin: Admin, group: string, topic: string, ends: Array<{ partition: number; high: string; low: string }>): Promise<boolean> {
  const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.every((e) => Number(e.high) === Number(e.low) || (at.get(e.partition) ?? -1) >= Number(e.high));
}
