import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { headers, type NatsConnection, type Msg } from 'nats';
import { connectNats } from '../src/index.js';
import { infra, deferrer, eventually } from '@parley/test-support';

/**
 * The project's NATS (infra/nats/nats.conf) refuses strangers and holds each service to its own
 * subjects. These run on the real server with the real users; the passwords are the local
 * development ones from that file (`local-dev-<user>`).
 */

type Defer = ReturnType<typeof deferrer>;

function urlAs(user: string, password = `local-dev-${user}`): string {
  const u = new URL(infra.natsUrl);
  u.username = user;
  u.password = password;
  return u.toString();
}

function withoutCredentials(): string {
  const u = new URL(infra.natsUrl);
  return `${u.protocol}//${u.host}`;
}

async function as(defer: Defer, user: string): Promise<NatsConnection> {
  const h = await connectNats({ url: urlAs(user), name: `auth-test-${user}` });
  defer(() => h.close());
  // The health check is a JetStream request: it needs $JS.API.INFO and a reply on the user's own inbox.
  await h.health();
  return h.client.nc;
}

async function refusal(url: string): Promise<string> {
  const err = await connectNats({ url, name: 'auth-test-refused' }).then(
    async (h) => {
      await h.close();
      return undefined;
    },
    (e: unknown) => e as { code?: string },
  );
  assert.ok(err, 'the connection was accepted');
  return String(err.code);
}

// Never stored by any stream: a stream that captures the subject refuses a message that names another stream.
const nowhere = () => {
  const h = headers();
  h.set('Nats-Expected-Stream', 'PARLEY_AUTH_TEST_NOWHERE');
  return h;
};

/** 'denied' when the server refuses the publish for lack of permission, else 'sent'. */
async function publishAs(nc: NatsConnection, subject: string): Promise<'sent' | 'denied'> {
  try {
    await nc.request(subject, 'auth test', { timeout: 2000, headers: nowhere() });
  } catch (err) {
    if ((err as { code?: string }).code === 'PERMISSIONS_VIOLATION') return 'denied';
  }
  // Answered by a stream, or no responders: either way the server let it through.
  return 'sent';
}

async function subscribeAs(nc: NatsConnection, subject: string): Promise<'allowed' | 'denied'> {
  const sub = nc.subscribe(subject);
  const ended = (async () => {
    try {
      for await (const m of sub) void m;
      return 'allowed' as const;
    } catch (err) {
      return (err as { code?: string }).code === 'PERMISSIONS_VIOLATION' ? ('denied' as const) : ('allowed' as const);
    }
  })();
  await nc.flush();
  const outcome = await Promise.race([ended, new Promise<'allowed'>((r) => setTimeout(r, 500, 'allowed'))]);
  sub.unsubscribe();
  return outcome;
}

test('nats: a connection without credentials or with a wrong password is refused', async () => {
  assert.equal(await refusal(withoutCredentials()), 'AUTHORIZATION_VIOLATION');
  assert.equal(await refusal(urlAs('room-svc', 'not-the-password')), 'AUTHORIZATION_VIOLATION');
  assert.equal(await refusal(urlAs('nobody-we-know')), 'AUTHORIZATION_VIOLATION');
});

test('nats: only the edge may publish chat messages', async (t) => {
  const defer = deferrer(t);
  const room = `auth-${randomBytes(6).toString('hex')}`;
  const subject = `chat.room.${room}.msg`;
  const watcher = await as(defer, 'test');
  const seen: Msg[] = [];
  const sub = watcher.subscribe(subject, { callback: (_err, m) => void seen.push(m) });
  defer(() => sub.unsubscribe());
  await watcher.flush();

  for (const user of ['room-svc', 'user-svc', 'chat-ingestion-svc']) {
    const nc = await as(defer, user);
    assert.equal(await publishAs(nc, subject), 'denied', `${user} publishes a chat message`);
    // JetStream refuses it the same way: the PubAck path is no way around the permission.
    const js = nc.jetstream();
    await assert.rejects(js.publish(subject, 'forged', { timeout: 2000 }), (err: { code?: string }) => err.code === 'PERMISSIONS_VIOLATION', user);
  }
  await watcher.flush();
  assert.equal(seen.length, 0, 'nothing a service without the right reached the subject');

  const edge = await as(defer, 'chat-realtime-svc');
  assert.equal(await publishAs(edge, subject), 'sent');
  await eventually(async () => seen.length === 1, 5000);
});

test('nats: room-svc and user-svc publish only their own events', async (t) => {
  const defer = deferrer(t);
  const room = `auth-${randomBytes(6).toString('hex')}`;
  const roomEvent = `parley.events.room.${room}.event.room.auth_test`;
  const sessionEvent = 'parley.events.session.auth_test';
  const rooms = await as(defer, 'room-svc');
  const users = await as(defer, 'user-svc');
  assert.equal(await publishAs(rooms, roomEvent), 'sent');
  assert.equal(await publishAs(rooms, sessionEvent), 'denied');
  assert.equal(await publishAs(users, sessionEvent), 'sent');
  assert.equal(await publishAs(users, roomEvent), 'denied');
  const edge = await as(defer, 'chat-realtime-svc');
  assert.equal(await publishAs(edge, roomEvent), 'denied', 'the edge publishes no room events');
  assert.equal(await publishAs(edge, sessionEvent), 'denied', 'nor session events');
});

test('nats: a service reads neither chat subjects nor the replies meant for another', async (t) => {
  const defer = deferrer(t);
  const rooms = await as(defer, 'room-svc');
  assert.equal(await subscribeAs(rooms, 'chat.room.*.msg'), 'denied');
  assert.equal(await subscribeAs(rooms, '_INBOX.chat-realtime-svc.>'), 'denied', 'JetStream answers to the edge travel there');
  assert.equal(await subscribeAs(rooms, '_INBOX.>'), 'denied');
  assert.equal(await subscribeAs(rooms, '_INBOX.room-svc.mine'), 'allowed');
  // Nor may it look into, or reshape, the message stream.
  const jsm = await rooms.jetstreamManager();
  await assert.rejects(jsm.streams.info('CHAT_MESSAGES'), (err: { code?: string }) => err.code === 'PERMISSIONS_VIOLATION');
  await assert.rejects(jsm.streams.delete('CHAT_MESSAGES'), (err: { code?: string }) => err.code === 'PERMISSIONS_VIOLATION');
  const ingestion = await as(defer, 'chat-ingestion-svc');
  assert.equal(await subscribeAs(ingestion, 'chat.room.*.msg'), 'denied', 'ingestion reads the stream through its consumer only');
  const ijsm = await ingestion.jetstreamManager();
  await assert.rejects(ijsm.streams.delete('CHAT_MESSAGES'), (err: { code?: string }) => err.code === 'PERMISSIONS_VIOLATION');
});
