/**
 * One load client per protocol, behind one shape (LoadClient), so the generator drives Parley's
 * edge, the Socket.io peer and the bare uWS peer with the same code and the same schedule.
 * Every client resolves once the server says the socket is in its room (Parley: the history
 * frame; Socket.io: a `ready` event; bare uWS: a `ready` frame).
 */
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { bodyOfFrame } from './plan.js';

export type TargetKind = 'parley' | 'socketio' | 'uws';

export interface Target {
  kind: TargetKind;
  /** ws://127.0.0.1:PORT (Socket.io: http://…) */
  base: string;
}

export interface ClientEvents {
  onBody(body: string): void;
  onAck(clientMsgId: string): void;
  onError(code: string): void;
  onClose(): void;
}

export interface LoadClient {
  send(clientMsgId: string, body: string): void;
  close(): void;
}

const JOIN_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
  });
}

/** Parley and bare uWS speak the same JSON frames; they differ in URL, auth and the join signal. */
function rawWsClient(url: string, protocols: string[], readyType: string, ev: ClientEvents): Promise<LoadClient> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false });
  const ready = new Promise<LoadClient>((resolve, reject) => {
    let joined = false;
    ws.on('message', (data) => {
      const s = String(data);
      if (s.startsWith('{"type":"message"')) {
        const body = bodyOfFrame(s);
        if (body !== undefined) ev.onBody(body);
      } else if (s.startsWith('{"type":"ack"')) {
        ev.onAck((JSON.parse(s) as { client_msg_id: string }).client_msg_id);
      } else if (s.startsWith(`{"type":"${readyType}`)) {
        joined = true;
        resolve({ send: (id, body) => ws.send(JSON.stringify({ type: 'send', client_msg_id: id, body })), close: () => ws.terminate() });
      } else if (s.startsWith('{"type":"error"')) {
        ev.onError((JSON.parse(s) as { code: string }).code);
      }
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', (err) => !joined && reject(err));
    ws.once('close', () => (joined ? ev.onClose() : reject(new Error('closed before joining'))));
  });
  return withTimeout(ready, url);
}

function socketIoClient(base: string, room: string, ev: ClientEvents): Promise<LoadClient> {
  // Websocket only: long-polling first would measure the upgrade dance, not the chat.
  const socket = io(base, { transports: ['websocket'], query: { room }, reconnection: false, forceNew: true });
  const ready = new Promise<LoadClient>((resolve, reject) => {
    let joined = false;
    socket.on('message', (m: { body: string }) => ev.onBody(m.body));
    socket.once('ready', () => {
      joined = true;
      resolve({
        send: (id, body) => socket.emit('send', { client_msg_id: id, body }, () => ev.onAck(id)),
        close: () => socket.disconnect(),
      });
    });
    socket.once('connect_error', (err) => reject(err));
    socket.on('disconnect', (reason) => joined && reason !== 'io client disconnect' && ev.onClose());
  });
  return withTimeout(ready, `${base} room ${room}`);
}

export function connectClient(target: Target, room: string, token: string | undefined, ev: ClientEvents): Promise<LoadClient> {
  switch (target.kind) {
    case 'parley':
      return rawWsClient(`${target.base}/v1/rooms/${room}/ws`, ['parley.v1', `parley.token.${token ?? ''}`], 'history', ev);
    case 'uws':
      return rawWsClient(`${target.base}/rooms/${room}`, [], 'ready', ev);
    case 'socketio':
      return socketIoClient(target.base, room, ev);
  }
}
