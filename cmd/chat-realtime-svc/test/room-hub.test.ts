import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JetStreamManager, Msg, NatsConnection } from 'nats';
import { RoomHub } from '../src/room-hub.js';

/**
 * The hub's gap logic against a stream kept in memory: `store` appends a message and returns
 * what the server would republish (subject, stream sequence, the subject's previous sequence);
 * the test decides which republished copies reach the hub, twice or not at all.
 */
function fakeNats(prefix: string) {
  const stored: Array<{ subject: string; seq: number; data: Uint8Array }> = [];
  let lastSeq = 0;
  let callback: ((err: Error | null, m: Msg) => void) | undefined;
  const notFound = () => Object.assign(new Error('no message found'), { code: '404' });
  const nc = {
    subscribe: (_subject: string, opts: { callback: (err: Error | null, m: Msg) => void }) => {
      callback = opts.callback;
      return { unsubscribe: () => (callback = undefined) };
    },
    flush: async () => undefined,
  } as unknown as NatsConnection;
  const jsm = {
    direct: {
      getMessage: async (_stream: string, q: { last_by_subj?: string; seq?: number; next_by_subj?: string }) => {
        if (q.last_by_subj) {
          const last = stored.filter((m) => m.subject === q.last_by_subj).at(-1);
          if (!last) throw notFound();
          return { ...last, header: undefined };
        }
        const next = stored.find((m) => m.subject === q.next_by_subj && m.seq >= q.seq!);
        if (!next) throw notFound();
        return { ...next, header: undefined };
      },
    },
  } as unknown as JetStreamManager;
  const store = (room: string, body: string, kind = 'msg') => {
    const subject = `${prefix}.room.${room}.${kind}`;
    const previous = stored.filter((m) => m.subject === subject).at(-1)?.seq ?? 0;
    const seq = ++lastSeq;
    const m = { subject, seq, data: new TextEncoder().encode(body) };
    stored.push(m);
    const headers = new Map([['Nats-Sequence', String(seq)], ['Nats-Last-Sequence', String(previous)]]);
    return { subject: `${prefix}.fan.${room}.${kind}`, data: m.data, headers: { get: (k: string) => headers.get(k) ?? '' } } as unknown as Msg;
  };
  const deliver = (m: Msg) => callback?.(null, m);
  const forget = (seq: number) => stored.splice(stored.findIndex((m) => m.seq === seq), 1);
  return { nc, jsm, store, deliver, forget };
}

function hubOf(f: ReturnType<typeof fakeNats>, prefix: string) {
  const got: string[] = [];
  const lost: string[] = [];
  const hub = new RoomHub(f.nc, f.jsm, 'S', prefix, {
    onMessage: (_room, data, update) => got.push(`${update ? 'upd:' : ''}${new TextDecoder().decode(data)}`),
    wantsHeaders: false,
    onLost: (room) => lost.push(room),
  });
  return { hub, got, lost };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

test('live copies in order are delivered as they come; a repeated copy is dropped', async () => {
  const f = fakeNats('p');
  const { hub, got } = hubOf(f, 'p');
  await hub.acquire('r1');
  const a = f.store('r1', 'a');
  const b = f.store('r1', 'b');
  f.deliver(a);
  f.deliver(b);
  f.deliver(b);
  await settle();
  assert.deepEqual(got, ['a', 'b']);
  assert.equal(hub.counters.repeats, 1);
  assert.equal(hub.counters.filled, 0);
});

test('a lost live copy is read from the stream before the message after it, and its late copy is dropped', async () => {
  const f = fakeNats('p');
  const { hub, got } = hubOf(f, 'p');
  await hub.acquire('r1');
  const a = f.store('r1', 'a');
  f.store('r1', 'b');
  f.store('r1', 'other-kind', 'upd');
  const c = f.store('r1', 'c');
  const d = f.store('r1', 'd');
  f.deliver(a);
  f.deliver(d); // b and c lost: d names c as its predecessor
  f.deliver(c); // a late copy of c, while the fill runs or after
  await settle();
  assert.deepEqual(got, ['a', 'b', 'c', 'd']);
  assert.equal(hub.counters.filled, 2);
});

test('what was stored before the subscription is the join\'s to read; what came between baseline and subscription is filled', async () => {
  const f = fakeNats('p');
  f.store('r1', 'old');
  const { hub, got } = hubOf(f, 'p');
  await hub.acquire('r1');
  f.store('r1', 'unseen'); // stored after the baseline, its live copy never came
  const next = f.store('r1', 'next');
  f.deliver(next);
  await settle();
  assert.deepEqual(got, ['unseen', 'next']);
});

test('a gap whose messages the stream no longer holds is skipped once, not reopened', async () => {
  const f = fakeNats('p');
  const { hub, got, lost } = hubOf(f, 'p');
  await hub.acquire('r1');
  f.store('r1', 'gone'); // seq 1: its live copy lost, and expired before anyone read it
  const after = f.store('r1', 'after');
  f.forget(1);
  f.deliver(after);
  f.deliver(f.store('r1', 'last'));
  await settle();
  assert.deepEqual(got, ['after', 'last']);
  assert.deepEqual(lost, []);
});

test('catchUp delivers what a join read beyond the feed; resync fills what a reconnect lost, updates too', async () => {
  const f = fakeNats('p');
  const { hub, got } = hubOf(f, 'p');
  await hub.acquire('r1');
  f.store('r1', 'x');
  const y = f.store('r1', 'y');
  await hub.catchUp('r1', 1);
  assert.deepEqual(got, ['x']);
  f.deliver(y);
  await settle();
  assert.deepEqual(got, ['x', 'y']);
  f.store('r1', 'z');
  f.store('r1', 'changed', 'upd');
  await hub.resync();
  assert.deepEqual(got, ['x', 'y', 'z', 'upd:changed']);
  assert.equal(hub.counters.resyncs, 1);
  hub.release('r1');
  assert.equal(hub.size, 0);
});
