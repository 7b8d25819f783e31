/**
 * PEER FOR MEASUREMENT ONLY (bench/). Bare uWebSockets.js pub/sub: no broker, no auth, no
 * storage, one process. It is the ceiling of WebSocket fanout on this machine, against which
 * Parley's edge (NATS, auth, JetStream) is compared.
 *
 * Same minimal chat as the other peers: `GET /rooms/:room` upgrades into that room; a
 * `{"type":"send","client_msg_id","body"}` frame is broadcast to the room (sender included) as
 * `{"type":"message","message":{…,"body"}}` and acknowledged with `{"type":"ack","client_msg_id"}`.
 *
 *   PORT=9001 node --import tsx bench/peers/uws-bare-server.ts
 */
import uWS from 'uWebSockets.js';

interface Data {
  room: string;
}

const port = Number(process.env['PORT'] ?? 9001);
const app = uWS.App();
let seq = 0;

app.ws<Data>('/rooms/:room', {
  idleTimeout: 120,
  maxPayloadLength: 16 * 1024,
  maxBackpressure: 1024 * 1024,
  upgrade: (res, req, ctx) => {
    res.upgrade<Data>({ room: req.getParameter(0) ?? '' }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
  },
  open: (ws) => {
    ws.subscribe(ws.getUserData().room);
    ws.send('{"type":"ready"}');
  },
  message: (ws, data, isBinary) => {
    if (isBinary) return;
    let f: { type?: unknown; client_msg_id?: unknown; body?: unknown };
    try {
      f = JSON.parse(Buffer.from(data).toString('utf8')) as typeof f;
    } catch {
      return void ws.send('{"type":"error","code":"invalid_json"}');
    }
    if (f.type !== 'send' || typeof f.body !== 'string' || typeof f.client_msg_id !== 'string') return void ws.send('{"type":"error","code":"invalid_frame"}');
    const room = ws.getUserData().room;
    const message = { id: String(++seq), room_id: room, client_msg_id: f.client_msg_id, body: f.body, created_at: Date.now() };
    app.publish(room, JSON.stringify({ type: 'message', message }));
    ws.send(JSON.stringify({ type: 'ack', client_msg_id: f.client_msg_id, id: message.id }));
  },
});
app.get('/healthz', (res) => void res.end('ok'));

app.listen('127.0.0.1', port, (listen) => {
  if (!listen) {
    console.error(`uws-bare: cannot listen on ${port}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ listening: `http://127.0.0.1:${port}` }));
});
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
