/**
 * A generator process for bench/connections.ts (forked by idle-generator.ts): opens idle sockets
 * from the loopback source addresses it is given, each join timed from the socket's creation
 * to the server's "you are in the room" signal (Parley: the history frame; bare uWS: `ready`;
 * Socket.io: the `ready` event), at most `concurrency` joins in flight; then it holds them,
 * reading nothing but their closes, until told to close them. Every process has its own
 * RLIMIT_NOFILE, which is why the sockets are spread over several of them.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { io, type Socket } from 'socket.io-client';
import { Histogram } from './histogram.js';
import type { IdleReply, IdleRequest, IdleSpec, OpenResult } from './idle-protocol.js';

interface Held {
  close(): void;
}

const JOIN_TIMEOUT_MS = 30_000;
let held: Held[] = [];
let closedByServer = 0;

function joinWs(spec: IdleSpec, readyPrefix: string): Promise<Held> {
  const ws = new WebSocket(spec.url, spec.protocols ?? [], { perMessageDeflate: false, localAddress: spec.localAddress });
  return new Promise<Held>((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no ${readyPrefix} within ${JOIN_TIMEOUT_MS} ms`))), JOIN_TIMEOUT_MS);
    const onMessage = (data: WebSocket.RawData) => {
      if (!String(data).startsWith(readyPrefix)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      let closing = false;
      ws.once('close', () => closing || (closedByServer += 1));
      resolve({ close: () => ((closing = true), ws.terminate()) });
    };
    ws.on('message', onMessage);
    ws.once('unexpected-response', (_req, res) => (clearTimeout(timer), ws.terminate(), reject(new Error(`upgrade refused: ${res.statusCode}`))));
    ws.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

function joinSocketIo(spec: IdleSpec): Promise<Held> {
  const socket: Socket = io(spec.url, { transports: ['websocket'], query: { room: spec.room ?? '' }, reconnection: false, forceNew: true, localAddress: spec.localAddress } as Parameters<typeof io>[1]);
  return new Promise<Held>((resolve, reject) => {
    const timer = setTimeout(() => (socket.disconnect(), reject(new Error(`no ready within ${JOIN_TIMEOUT_MS} ms`))), JOIN_TIMEOUT_MS);
    socket.once('ready', () => {
      clearTimeout(timer);
      socket.once('disconnect', (reason) => reason !== 'io client disconnect' && (closedByServer += 1));
      resolve({ close: () => socket.disconnect() });
    });
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.disconnect(), reject(err)));
  });
}

async function open(kind: 'parley' | 'uws' | 'socketio', specs: IdleSpec[], concurrency: number, deadlineMs: number): Promise<OpenResult> {
  const hist = new Histogram();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stopAt = Date.now() + deadlineMs;
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const work = async () => {
    while (next < specs.length && Date.now() < stopAt) {
      const spec = specs[next++]!;
      const started = performance.now();
      try {
        held.push(await (kind === 'socketio' ? joinSocketIo(spec) : joinWs(spec, kind === 'parley' ? '{"type":"history' : '{"type":"ready"')));
        hist.record(performance.now() - started);
      } catch (err) {
        failed += 1;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  const cpu = process.cpuUsage(cpu0);
  return { opened: hist.count, failed, notTried: specs.length - next, ...(firstError ? { firstError } : {}), seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, latency: hist.toJSON() };
}

process.on('message', (msg: IdleRequest) => {
  const reply = (p: Promise<unknown>) =>
    p.then(
      (result) => process.send!({ seq: msg.seq, ok: true, result } satisfies IdleReply),
      (err: unknown) => process.send!({ seq: msg.seq, ok: false, error: (err as Error).message } satisfies IdleReply),
    );
  switch (msg.op) {
    case 'open':
      return void reply(open(msg.kind, msg.specs, msg.concurrency, msg.deadlineMs));
    case 'held':
      return void reply(Promise.resolve({ held: held.length, closedByServer }));
    case 'close': {
      const n = held.length;
      for (const h of held) h.close();
      held = [];
      closedByServer = 0;
      return void reply(Promise.resolve({ closed: n }));
    }
  }
});
// The runner gone (killed, or past its deadline): so is this process and every socket it held.
process.on('disconnect', () => process.exit(0));
