import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { Snowflake, envelopeRecord, newMessageEnvelope, type DeadLetter, type Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { silentLogger } from '@parley/log';
import { SinkWorker, type MessageSink, type DeadLetterSink } from '../src/index.js';

const gen = new Snowflake({ instance: 1 });
const env = (i: number) => newMessageEnvelope(gen.next(), { room_id: 'r', sender_id: 'u', sender_name: 'U', body: `b${i}`, client_msg_id: `c${i}` });

function records(values: Buffer[]): KafkaMessage[] {
  return values.map((value, i) => ({ key: Buffer.from('r'), value, offset: String(10 + i), timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage);
}

/** Drives one eachBatch call with fakes and reports what was written, dead-lettered and committed. */
function runBatch(sink: MessageSink, values: Buffer[], events: string[]) {
  const letters: DeadLetter[] = [];
  const dlq: DeadLetterSink = {
    send: async (ls) => {
      events.push(`dlq ${ls.length}`);
      letters.push(...ls);
    },
  };
  const worker = new SinkWorker({
    kafka: {} as Kafka, topic: 't', groupId: 'g', sink, deadLetters: dlq, log: silentLogger(), service: 'test',
    maxBatch: 100, maxWaitMs: 10, maxBodyBytes: 4096, onFatal: () => undefined,
  });
  const internals = worker as unknown as { consumer: unknown; eachBatch(p: EachBatchPayload): Promise<void> };
  internals.consumer = {
    commitOffsets: async (o: Array<{ offset: string }>) => void events.push(`commit ${o[0]!.offset}`),
    disconnect: async () => undefined,
  };
  const payload = {
    batch: { topic: 't', partition: 0, messages: records(values) },
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  const done = internals.eachBatch(payload).then(() => letters);
  return { worker, done };
}

test('retries transient failures, dead-letters poison and rejected records, then commits past the batch', async () => {
  const events: string[] = [];
  const good = [env(1), env(2), env(3)];
  let calls = 0;
  const sink: MessageSink = {
    name: 'fake',
    write: async (envs: Envelope[]) => {
      calls += 1;
      events.push(`write ${envs.length}`);
      if (calls === 1) throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'store away');
      return envs.map((e) => ('body' in e && e.body === 'b2' ? new ParleyError('POISON_MESSAGE', 'refused', { details: { reason: 'store_rejected' } }) : calls === 2 && 'body' in e && e.body === 'b3' ? new ParleyError('RATE_LIMITED', 'later') : undefined));
    },
  };
  const values = [envelopeRecord(good[0]!).value, Buffer.from('not json'), envelopeRecord(good[1]!).value, envelopeRecord(good[2]!).value];
  const letters = await runBatch(sink, values, events).done;
  assert.deepEqual(events, ['write 3', 'write 3', 'write 1', 'dlq 2', 'commit 14']);
  assert.deepEqual(letters.map((l) => l.reason), ['bad_json', 'store_rejected']);
  assert.equal(letters[0]!.source, 'kafka:t:0:11');
});

test('nothing is committed while the store keeps failing and the worker is stopping', async () => {
  const events: string[] = [];
  const sink: MessageSink = { name: 'fake', write: async () => { throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'away'); } };
  const { worker, done } = runBatch(sink, [envelopeRecord(env(9)).value], events);
  await new Promise((r) => setTimeout(r, 500));
  await worker.stop();
  await done;
  assert.ok(events.length === 0, `no commit, no dead letter: ${events.join(',')}`);
});
