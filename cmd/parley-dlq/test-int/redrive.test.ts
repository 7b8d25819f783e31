/**
 * `make dlq` on the real servers: a message both command workers dead-letter because its body
 * is over their configured limit (MESSAGE_MAX_BODY_BYTES=64) is redriven after the fix (the
 * workers restarted with 4096) and is stored once, in Cassandra and in Elasticsearch, even
 * though it is redriven twice (once per letter: each worker dead-lettered it) and then again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bucketOf, envelopeRecord } from '@parley/envelope';
import { infra, deferrer, eventually } from '@parley/test-support';
import { pipelineNames, pipelineEnv, pipelineStores, runService, makeEnvelopes, searchAll } from '@parley/test-support/pipeline';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';
import { DeadLetterQueue, selectByReason } from '../src/dead-letter-queue.js';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

test('a dead-lettered message is redriven after its cause is fixed and stored once, however often it is redriven', async (t) => {
  const defer = deferrer(t);
  const names = pipelineNames();
  const { cql, es, alias, kafka } = await pipelineStores(defer, names);
  const producer = kafka.producer();
  await producer.connect();
  defer(() => producer.disconnect());

  const start = async (maxBodyBytes: number) => {
    const env = pipelineEnv(names, { MESSAGE_MAX_BODY_BYTES: String(maxBodyBytes), ELASTIC_BULK_FLUSH_MS: '100' });
    const cql = await runService(cqlCommandService, { ...env, KAFKA_GROUP_ID: names.cqlGroup });
    const search = await runService(elasticCommandService, { ...env, KAFKA_GROUP_ID: names.esGroup });
    const stop = async () => {
      await cql.stop();
      await search.stop();
    };
    defer(stop);
    return stop;
  };
  const [small, poison, after] = makeEnvelopes(3, ['room-a'], (i) => (i === 1 ? `a long message ${'x'.repeat(200)}` : `short ${i}`));
  const stopStrict = await start(64);
  await producer.send({ topic: names.topic, messages: [small!, poison!, after!].map(envelopeRecord) });

  const queue = new DeadLetterQueue(kafka, { topic: names.topic, dlqTopic: names.dlqTopic });
  const letters = await eventually(async () => {
    const all = await queue.read();
    return all.length === 2 ? all : undefined;
  }, 60_000, 500);
  assert.deepEqual(letters.map((l) => [l.reason, l.key]), [['body_too_large', 'room-a'], ['body_too_large', 'room-a']]);
  assert.deepEqual(letters.map((l) => l.service).sort(), ['chat-command-cql-svc', 'chat-command-elastic-svc']);
  assert.ok(letters.every((l) => l.source.startsWith(`kafka:${names.topic}:`) && l.value?.equals(envelopeRecord(poison!).value)));

  const cqlCount = async (id: string) =>
    (await cql.execute(`SELECT id FROM ${names.keyspace}.messages WHERE room_id = ? AND bucket = ? AND id = ?`, ['room-a', bucketOf(BigInt(id)), id], { prepare: true })).rowLength;
  const esIds = async () => (await searchAll(es, alias)).map((d) => d._id);
  // The partition moved on past the poison: both neighbours are stored, the poison is not.
  await eventually(async () => (await cqlCount(after!.id)) === 1 && (await esIds()).includes(after!.id), 30_000, 300);
  assert.equal(await cqlCount(poison!.id), 0);

  // The CLI lists them and refuses a reason or reference that is not there, saying what is.
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, KAFKA_BROKERS: infra.kafkaBrokers.join(','), KAFKA_TOPIC: names.topic, KAFKA_DLQ_TOPIC: names.dlqTopic } }).then(
      (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
    );
  const listed = await cli('list');
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /body_too_large\tchat-command-cql-svc\tkafka:/);
  assert.match(listed.out, /^2 dead letter\(s\) in /m);
  const wrongReason = await cli('redrive', '--reason', 'store_rejected');
  assert.equal(wrongReason.code, 2);
  assert.match(wrongReason.err, /no dead letters with reason "store_rejected"; reasons present: body_too_large \(2\)/);
  const wrongOffset = await cli('show', '0:999');
  assert.equal(wrongOffset.code, 2);
  assert.match(wrongOffset.err, /no dead letter at 0:999/);

  // The fix: the workers' limit is raised. Then everything of that reason is redriven (twice the
  // same record: both workers dead-lettered it), and one letter once more by reference.
  await stopStrict();
  await start(4096);
  const redriven = await cli('redrive', '--reason', 'body_too_large');
  assert.equal(redriven.code, 0, redriven.err);
  assert.match(redriven.out, /^2 record\(s\) redriven into /m);
  await queue.redrive(selectByReason(await queue.read(), 'body_too_large').slice(0, 1));

  await eventually(async () => (await cqlCount(poison!.id)) === 1 && (await esIds()).includes(poison!.id), 60_000, 300);
  // Give the later copies time to land too (they are behind the first in the same partition).
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await cqlCount(poison!.id), 1);
  const ids = await esIds();
  assert.deepEqual(ids.filter((id) => id === poison!.id), [poison!.id]);
  assert.deepEqual(ids.sort(), [small!.id, poison!.id, after!.id].sort());
  // Nothing new was dead-lettered by the redrive.
  assert.equal((await queue.read()).length, 2);
});
