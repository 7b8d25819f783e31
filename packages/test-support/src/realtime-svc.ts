import WebSocket from 'ws';
import { connectNats } from '@parley/clients';
import { silentLogger } from '@parley/log';
import { chatV1, grpcComponent, messageToProto, unary } from '@parley/proto';
import { infra, uniqueName, freePort, eventually, startInTest, type deferrer } from './index.js';
import { decodeEnvelope } from '@parley/envelope';
import type { MessageEvent } from '@parley/contracts';
import { startUserSvc, call, newUser } from './user-svc.js';
import { roomNames, startRoomSvc } from './room-svc.js';
import { realtimeService } from '@parley/chat-realtime-svc/app';

type Defer = ReturnType<typeof deferrer>;
export { call, newUser };

/**
 * A stand-in for chat-query-svc holding whatever the test says the pipeline has stored so far
 * (`store`), so a test can make the store lag behind the stream on purpose.
 */
export async function startFakeQuery(defer: Defer) {
  const stored: MessageEvent[] = [];
  let down = false;
  const port = await freePort();
  const impl = {
    listMessages: unary<chatV1.ListMessagesRequest, chatV1.ListMessagesResponse>(silentLogger(), 'ListMessages', async (req) => {
      if (down) throw Object.assign(new Error('down'), { code: 14 });
      const limit = req.limit || 50;
      let rows = stored.filter((e) => e.room_id === req.roomId).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      let hasMore = false;
      if (req.afterId) {
        rows = rows.filter((e) => BigInt(e.id) > BigInt(req.afterId));
        hasMore = rows.length > limit;
        rows = rows.slice(0, limit);
      } else {
        hasMore = rows.length > limit;
        rows = rows.slice(-limit);
      }
      return { messages: rows.map(messageToProto), hasMore, changed: [], changesTruncated: false };
    }),
    // Nothing was logged before; the named message as stored (the fake knows no owners).
    prepareCommand: unary<chatV1.PrepareCommandRequest, chatV1.PrepareCommandResponse>(silentLogger(), 'PrepareCommand', async (req) => {
      if (down) throw Object.assign(new Error('down'), { code: 14 });
      const found = stored.find((e) => e.room_id === req.roomId && e.id === req.messageId);
      return { loggedEventId: '', loggedKind: '', message: found ? messageToProto(found) : undefined, callerIsOwner: false };
    }),
    // Read marks are not kept by the fake: every read answers its own id, nothing is unread.
    markRead: unary<chatV1.MarkReadRequest, chatV1.MarkReadResponse>(silentLogger(), 'MarkRead', async (req) => ({ state: { readUpTo: req.messageId, unreadMessages: 0, unreadMentions: 0 } })),
    roomUnread: unary<chatV1.RoomUnreadRequest, chatV1.RoomUnreadResponse>(silentLogger(), 'RoomUnread', async () => ({ state: { readUpTo: '', unreadMessages: 0, unreadMentions: 0 } })),
  };
  const server = grpcComponent('fake-query', { services: [{ definition: chatV1.ChatQueryServiceService, implementation: impl }], host: '127.0.0.1', port, log: silentLogger() });
  await server.start(AbortSignal.timeout(5000));
  defer(() => server.stop(AbortSignal.timeout(2000)));
  return {
    addr: `127.0.0.1:${port}`,
    store: (envs: MessageEvent[]) => stored.push(...envs),
    setDown: (d: boolean) => {
      down = d;
    },
  };
}

/** user-svc, room-svc, a query service and fresh NATS names; edges are started on demand. */
export async function startStack(defer: Defer, opts: { queryAddr?: string; userEnv?: Record<string, string> } = {}) {
  const users = await startUserSvc(defer, opts.userEnv);
  const names = await roomNames(defer);
  const rooms = await startRoomSvc(defer, names, users.grpcAddr);
  const fake = opts.queryAddr ? undefined : await startFakeQuery(defer);
  const queryAddr = opts.queryAddr ?? fake!.addr;
  const subjectPrefix = uniqueName('rt');
  const stream = uniqueName('RT_MSGS');
  const leaseBucket = uniqueName('rt_lease');
  const nats = await connectNats({ url: infra.natsUrl, name: 'realtime-test' });
  defer(() => nats.close());
  defer(() => nats.client.jsm.streams.delete(stream).catch(() => undefined));
  defer(() => nats.client.jsm.streams.delete(`KV_${leaseBucket}`).catch(() => undefined));
  const redisPrefix = `${uniqueName('rt')}:`;

  /** The edge's environment for this stack: benches reuse it to run the edge as a process. */
  const edgeEnv = (port: number, overrides: Record<string, string> = {}): Record<string, string> => ({
    NATS_URL: infra.natsUrl,
    REDIS_URL: infra.redisUrl,
    REALTIME_PORT: String(port),
    USER_SVC_GRPC_ADDR: users.grpcAddr,
    ROOM_SVC_GRPC_ADDR: rooms.grpcAddr,
    QUERY_SVC_GRPC_ADDR: queryAddr,
    NATS_STREAM: stream,
    NATS_SUBJECT_PREFIX: subjectPrefix,
    ROOM_EVENTS_PREFIX: names.prefix,
    ROOM_EVENTS_STREAM: names.stream,
    REALTIME_LEASE_BUCKET: leaseBucket,
    REALTIME_REDIS_PREFIX: redisPrefix,
    SESSION_EVENTS_PREFIX: users.sessionEvents.prefix,
    SESSION_EVENTS_STREAM: users.sessionEvents.stream,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...overrides,
  });

  const startEdge = async (overrides: Record<string, string> = {}) => {
    const port = await freePort();
    const env = edgeEnv(port, overrides);
    const { svc, stderr, stop } = await startInTest(defer, realtimeService, env);
    return { port, url: `ws://127.0.0.1:${port}`, http: `http://127.0.0.1:${port}`, svc, stop, stderr };
  };

  /** A room owned by `owner` with `members` joined (public room, joined over REST). */
  const newRoom = async (owner: { token: string }, members: Array<{ token: string }> = []): Promise<string> => {
    const res = await call(rooms.http, 'POST', '/v1/rooms', { token: owner.token, body: { name: 'r', visibility: 'public' } });
    if (res.status !== 201) throw new Error(`create room ${res.status}`);
    const id: string = res.body.room.id;
    for (const m of members) {
      const j = await call(rooms.http, 'POST', `/v1/rooms/${id}/join`, { token: m.token });
      if (j.status !== 200 && j.status !== 201) throw new Error(`join ${j.status}`);
    }
    return id;
  };

  /** Everything the stream holds for a room, in stream order (what the pipeline will store). */
  const streamed = async (roomId: string): Promise<MessageEvent[]> => {
    const out: MessageEvent[] = [];
    const info = await nats.client.jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await nats.client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (!m) continue;
      if (!m.subject.endsWith('.msg')) continue;
      const env = decodeEnvelope(m.data);
      if (env.room_id === roomId && env.kind === 'message') out.push(env);
    }
    return out;
  };

  return { users, rooms, names, fake, nats: nats.client, stream, subjectPrefix, redisPrefix, edgeEnv, startEdge, newRoom, streamed };
}

export interface Frame {
  type: string;
  [k: string]: unknown;
}

/** A real WebSocket client that records every frame and the close code. */
export class Client {
  readonly frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse(String(data)) as Frame);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
  }

  static open(url: string, token: string | undefined, opts: { lastId?: string; via?: 'header' | 'protocol'; headers?: Record<string, string> } = {}): Promise<Client> {
    const q = opts.lastId ? `?last_id=${opts.lastId}` : '';
    const protocols = token && opts.via === 'protocol' ? ['parley.v1', `parley.token.${token}`] : ['parley.v1'];
    const headers: Record<string, string> = { ...opts.headers, ...(token && opts.via !== 'protocol' ? { authorization: `Bearer ${token}` } : {}) };
    const ws = new WebSocket(`${url}${q}`, protocols, { headers });
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += String(c)));
        res.on('end', () => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the first frame (from index `from`) matching `pred`. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 10_000, from = 0): Promise<Frame> {
    return eventually(async () => this.frames.slice(from).find(pred), timeoutMs, 20);
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === 'message').map((f) => f['message'] as Frame);
  }

  historyIds(): string[] {
    const h = this.frames.find((f) => f.type === 'history');
    return ((h?.['messages'] as Frame[] | undefined) ?? []).map((m) => m['id'] as string);
  }

  /** History then live ids, in the order received. */
  seenIds(): string[] {
    return [...this.historyIds(), ...this.messages().map((m) => m['id'] as string)];
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    return eventually(async () => this.closed, timeoutMs, 20);
  }

  close(): void {
    this.ws.close();
  }
}

/** Sends and waits for the ack; returns the message id. */
export async function sendAndAck(c: Client, clientMsgId: string, body: string): Promise<string> {
  const from = c.frames.length;
  c.send({ type: 'send', client_msg_id: clientMsgId, body });
  const f = await c.next((x) => (x.type === 'ack' || x.type === 'error') && x['client_msg_id'] === clientMsgId, 10_000, from);
  if (f.type !== 'ack') throw new Error(`send ${clientMsgId} failed: ${JSON.stringify(f)}`);
  return f['id'] as string;
}
