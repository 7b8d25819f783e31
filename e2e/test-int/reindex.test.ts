/**
 * `make reindex` under a steady chat load: the whole system as processes (e2e/system.ts), members
 * sending, editing, deleting and reacting through the edge all along (chat-load.ts,
 * change-load.ts), a searcher asking chat-query-svc for a canary message every 100 ms, and the
 * rebuild of Elasticsearch from the Kafka log into a new index with the alias moved at the end.
 * Afterwards the alias holds only the new index, which holds every acknowledged message once, as
 * the drill's model says it should look; search never stopped finding the canary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createKafka, elasticNames } from '@parley/clients';
import { createLogger } from '@parley/log';
import { reindex } from '@parley/parley-reindex/reindex';
import { deferrer, eventually, infra } from '@parley/test-support';
import { Client } from '@parley/test-support/realtime-svc';
import { makeEnvelopes, publishAll } from '@parley/test-support/pipeline';
import { call, newUser } from '@parley/test-support/user-svc';
import { startSystem, type System } from '../system.js';
import { LoadClient, newStats } from '../chat-load.js';
import { ChangeLoad } from '../change-load.js';
import { elasticStates } from '../store-state.js';
import { elasticIds, tally } from '../stores.js';

/** History published straight into the stream before the chat starts: what the rebuild has to go through. */
const HISTORY = Number(process.env['REINDEX_TEST_HISTORY'] ?? 20_000);
const PRELOAD_S = Number(process.env['REINDEX_TEST_PRELOAD_S'] ?? 20);
const BASELINE_S = 10;
const PRELOAD_RATE = 80;
const STEADY_RATE = 20;
const CHANGE_RATE = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Searches for the canary every 100 ms; a gap is the time between two answers that found it. */
function searcher(sys: System, token: string, roomId: string, word: string, canaryId: string) {
  const rest = sys.rest(token);
  const stats = { answers: 0, withoutCanary: 0, errors: 0, longestGapMs: 0 };
  let last = Date.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const page = await rest.search(roomId, word);
        stats.answers++;
        if (page.messages.some((m) => m.id === canaryId)) {
          stats.longestGapMs = Math.max(stats.longestGapMs, Date.now() - last);
          last = Date.now();
        } else stats.withoutCanary++;
      } catch {
        stats.errors++;
      }
      await sleep(100);
    }
  })();
  return {
    stats,
    stop: async () => {
      running = false;
      await loop;
      stats.longestGapMs = Math.max(stats.longestGapMs, Date.now() - last);
    },
  };
}

test('make reindex rebuilds Elasticsearch from the log into a new index while chat goes on', { timeout: 600_000 }, async (t) => {
  const defer = deferrer(t);
  const sys = await startSystem({ edges: 1, env: { REALTIME_SENDS_PER_USER: '100000', REALTIME_SENDS_PER_IP: '1000000' } });
  defer(() => sys.stop());
  const users = await Promise.all([0, 1, 2, 3].map(() => newUser(sys.urls.user)));
  const rooms: string[] = [];
  for (const owner of users.slice(0, 2)) {
    const res = await call(sys.urls.room, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'reindex', visibility: 'public' } });
    rooms.push(res.body.room.id);
  }
  for (const [i, u] of users.entries()) await call(sys.urls.room, 'POST', `/v1/rooms/${rooms[i % 2]}/join`, { token: u.token });

  // The canary: a message search must find before, during and after the rebuild.
  const word = `canary${randomBytes(4).toString('hex')}`;
  const raw = await Client.open(`${sys.urls.edges[0]}/v1/rooms/${rooms[0]}/ws`, users[0]!.token);
  await raw.next((f) => f.type === 'history' || f.type === 'history_unavailable');
  raw.send({ type: 'send', body: `the ${word} message`, client_msg_id: 'canary-1' });
  const canaryId = (await raw.next((f) => f.type === 'ack'))['id'] as string;
  raw.close();
  await eventually(async () => ((await sys.rest(users[2]!.token).search(rooms[0]!, word)).messages.length === 1 ? true : undefined), 30_000, 250);

  const history = makeEnvelopes(HISTORY, rooms, (i) => `history ${i}`);
  await publishAll(sys.nats.js, sys.names.prefix, history);
  const alias = elasticNames(sys.names.esPrefix).alias;
  await eventually(async () => {
    await sys.elastic.indices.refresh({ index: alias });
    return (await sys.elastic.count({ index: alias })).count >= HISTORY + 1 ? true : undefined;
  }, 300_000, 1000);

  const stats = newStats();
  const clients = users.map((u, i) => new LoadClient(sys.urls.edges, u.token, rooms[i % 2]!, `c${i}`, stats, 0));
  const changes = new ChangeLoad(sys.urls.edges, users.map((u, i) => ({ name: `c${i}`, token: u.token, roomId: rooms[i % 2]!, ...(i < 2 ? { owns: rooms[i]! } : {}) })));
  stats.onAck = (a) => changes.acked(a.id, a.roomId, a.client, a.body);
  for (const c of clients) c.connect();
  changes.connect();
  defer(() => {
    for (const c of clients) c.stop();
    changes.stop();
  });
  let rate = PRELOAD_RATE;
  let sending = true;
  const sender = (async () => {
    while (sending) {
      clients[Math.floor(Math.random() * clients.length)]!.send();
      await sleep(1000 / rate);
    }
  })();
  const changer = setInterval(() => changes.tick(), 1000 / CHANGE_RATE);
  await sleep(PRELOAD_S * 1000);
  rate = STEADY_RATE;
  // The same searcher without a rebuild first: what a gap between answers is anyway on this machine.
  const baseline = searcher(sys, users[2]!.token, rooms[0]!, word, canaryId);
  await sleep(BASELINE_S * 1000);
  await baseline.stop();
  const before = stats.acked.size;

  const search = searcher(sys, users[2]!.token, rooms[0]!, word, canaryId);
  const log = createLogger({ service: 'reindex-test', level: 'warn' });
  const kafka = createKafka({ brokers: infra.kafkaBrokers, clientId: 'reindex-test' });
  defer(() => kafka.close());
  const admin = kafka.client.admin();
  const producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await Promise.all([admin.connect(), producer.connect()]);
  defer(() => admin.disconnect());
  defer(() => producer.disconnect());
  const startedAt = Date.now();
  const report = await reindex(
    { es: sys.elastic, kafka: kafka.client, admin, producer, log },
    {
      prefix: sys.names.esPrefix,
      topic: sys.names.topic,
      dlqTopic: sys.names.dlqTopic,
      groupId: sys.names.esGroup,
      maxBodyBytes: 4096,
      bulkMaxDocs: 2000,
      switchLag: 50,
      guardAgeMs: 5_000,
      timeoutMs: 300_000,
      oldIndices: 'keep',
      allowTruncated: false,
    },
  );
  const tookS = (Date.now() - startedAt) / 1000;
  const duringRebuild = stats.acked.size - before;
  await sleep(5000); // chat goes on after the switch, into the new index through the live worker
  sending = false;
  await sender;
  clearInterval(changer);
  changes.pause();
  assert.ok(await changes.settled(60_000), 'every change answered');
  await eventually(async () => (clients.every((c) => c.pending === 0) ? true : undefined), 60_000, 200);
  await search.stop();

  const behind = Object.keys(await sys.elastic.indices.getAlias({ name: alias }));
  assert.deepEqual(behind, [report.newIndex], 'the alias holds the new index only');
  assert.notDeepEqual(report.oldIndices, [report.newIndex]);
  const expected = new Set([...stats.acked.values(), canaryId, ...history.map((e) => e.id)]);
  const found = await eventually(async () => {
    const x = tally(await elasticIds(sys.elastic, alias), expected);
    return x.missing === 0 ? x : undefined;
  }, 60_000, 1000);
  assert.equal(found.duplicated, 0);
  assert.equal(found.unexpected, 0, 'nothing but acknowledged messages');
  const diffs = await eventually(async () => {
    const d = changes.model.compare('elasticsearch', await elasticStates(sys.elastic, alias));
    return d.length === 0 ? d : undefined;
  }, 60_000, 1000).catch(async () => changes.model.compare('elasticsearch', await elasticStates(sys.elastic, alias)));
  assert.deepEqual(diffs.slice(0, 5), [], 'every message as the model says (body, version, deleted)');
  assert.equal(search.stats.withoutCanary, 0, 'search never answered without the canary (never from an empty index)');
  assert.equal(search.stats.errors, 0, 'search never failed');
  assert.ok(report.guard.old > HISTORY && report.guard.new >= report.guard.old, 'the guard compared the history');
  const numbers = {
    acknowledged: stats.acked.size,
    ackedDuringRebuild: duringRebuild,
    changesAcked: changes.stats.acked,
    reindexSeconds: tookS,
    ...report,
    search: search.stats,
    searchWithoutRebuild: baseline.stats,
  };
  t.diagnostic(JSON.stringify(numbers));
  console.log(JSON.stringify(numbers, null, 2));
});
