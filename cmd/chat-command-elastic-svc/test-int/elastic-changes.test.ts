import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElastic } from '@parley/clients';
import { newEventEnvelope, Snowflake, type Envelope, type NewEvent } from '@parley/envelope';
import { elasticNames, installElasticTemplates, removeElasticTemplates } from '@parley/migrate';
import { infra, deferrer, uniqueName } from '@parley/test-support';
import { ElasticMessageSink } from '../src/elastic-message-sink.js';

const ids = new Snowflake({ instance: 3 });
const who = (room: string, sender: string) => ({ room_id: room, sender_id: sender, sender_name: sender, client_msg_id: uniqueName('c').replace(/[^A-Za-z0-9_-]/g, '') });
const ev = (e: NewEvent) => newEventEnvelope(ids.next(), e);

async function setup(t: Parameters<typeof deferrer>[0]) {
  const defer = deferrer(t);
  const prefix = uniqueName('esc');
  const es = createElastic({ url: infra.elasticsearchUrl });
  defer(() => es.close());
  defer(() => removeElasticTemplates(es.client, prefix));
  await installElasticTemplates(es.client, prefix);
  const names = elasticNames(prefix);
  const sink = new ElasticMessageSink(es.client, names.alias, names.erasures);
  const write = async (envs: Envelope[]) => {
    const res = await sink.write(envs);
    assert.deepEqual(res.map((r) => r?.message), envs.map(() => undefined), 'every event stored');
  };
  const docs = async (room: string) => {
    await es.client.indices.refresh({ index: names.alias });
    const r = await es.client.search<Record<string, unknown>>({ index: names.alias, size: 100, query: { term: { room_id: room } }, sort: [{ seq: 'asc' }] });
    return new Map(r.hits.hits.map((h) => [h._id!, h._source!]));
  };
  return { es: es.client, names, sink, write, docs };
}

test('edits and deletes fold into the document in any order, once each; only the author\'s count', async (t) => {
  const { write, docs } = await setup(t);
  const room = uniqueName('r');
  const m = ev({ ...who(room, 'ann'), kind: 'message', body: 'original words' });
  const e1 = ev({ ...who(room, 'ann'), kind: 'edit', target_id: m.id, body: 'first edit' });
  const forged = ev({ ...who(room, 'mallory'), kind: 'edit', target_id: m.id, body: 'forged' });
  const e2 = ev({ ...who(room, 'ann'), kind: 'edit', target_id: m.id, body: 'second edit' });
  // The newest edit first, then the message, then the older edit: the result is the same.
  await write([e2, forged]);
  assert.equal((await docs(room)).get(m.id)?.['shell'], true, 'a change before its message is a shell');
  await write([m, e1]);
  await write([m, e1, e2]); // a replay
  const d = (await docs(room)).get(m.id)!;
  assert.equal(d['body'], 'second edit');
  assert.equal(d['version'], 3);
  assert.equal(d['shell'], undefined);
  assert.equal(d['original_body'], 'original words');

  const del = ev({ ...who(room, 'bob'), kind: 'delete', target_id: m.id });
  await write([del]);
  assert.equal((await docs(room)).get(m.id)?.['deleted_at'], undefined, "bob is not the author and the edge did not vouch for him as owner");
  const own = ev({ ...who(room, 'bob'), kind: 'delete', target_id: m.id, by_owner: true });
  await write([own]);
  const gone = (await docs(room)).get(m.id)!;
  assert.equal(gone['deleted_at'], own.created_at);
  assert.equal(gone['body'], '');
  assert.equal(gone['original_body'], '');
  await write([m, e2]); // a replay of the message and an edit after the delete
  assert.equal((await docs(room)).get(m.id)?.['body'], '', 'nothing brings the text back');
});

test('an erasure removes the user\'s documents, and a later replay of their messages does not bring them back', async (t) => {
  const { write, docs, es, names } = await setup(t);
  const room = uniqueName('r');
  const a = ev({ ...who(room, 'eve'), kind: 'message', body: 'erase me' });
  const b = ev({ ...who(room, 'ann'), kind: 'message', body: 'keep me' });
  await write([a, b]);
  const erase = ev({ ...who(room, 'operator'), kind: 'erase', erase_user_id: 'eve' });
  await write([erase]);
  assert.deepEqual([...(await docs(room)).keys()], [b.id]);
  await write([a]);
  assert.deepEqual([...(await docs(room)).keys()], [b.id], 'the replayed message is skipped');
  // A new sink (a restarted worker) remembers the erasure from the store.
  const fresh = new ElasticMessageSink(es, names.alias, names.erasures);
  assert.deepEqual((await fresh.write([a])).map((r) => r?.message), [undefined]);
  assert.deepEqual([...(await docs(room)).keys()], [b.id]);
});
