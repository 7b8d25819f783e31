/**
 * PEER FOR MEASUREMENT ONLY (bench/). Socket.io with the Redis adapter, the stack many teams
 * would pick for chat, implementing the same minimal chat as the other peers: the client
 * connects with `?room=<id>` and is told `ready` once in the room; `send` {client_msg_id, body}
 * is broadcast to the room (sender included) as `message` and acknowledged through Socket.io's
 * ack callback. No auth and no storage: everything it does, Parley's edge does too.
 *
 *   PORT=9002 REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY=bench node --import tsx bench/peers/socketio-server.ts
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

const port = Number(process.env['PORT'] ?? 9002);
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
// A key of its own so concurrent runs (and other users of this Redis) never cross-deliver.
const key = process.env['REDIS_KEY'] ?? `socket.io-bench-${process.pid}`;

const pub = new Redis(redisUrl, { lazyConnect: true });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const io = new Server(http, { adapter: createAdapter(pub, sub, { key }), serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 16 * 1024 });
let seq = 0;

io.on('connection', (socket) => {
  const room = String(socket.handshake.query['room'] ?? '');
  if (!room) return void socket.disconnect(true);
  void Promise.resolve(socket.join(room)).then(() => socket.emit('ready'));
  socket.on('send', (m: { client_msg_id?: unknown; body?: unknown }, ack?: (r: unknown) => void) => {
    if (typeof m?.body !== 'string' || typeof m.client_msg_id !== 'string') return ack?.({ error: 'invalid_frame' });
    const message = { id: String(++seq), room_id: room, client_msg_id: m.client_msg_id, body: m.body, created_at: Date.now() };
    io.to(room).emit('message', message);
    ack?.({ id: message.id });
  });
});

http.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ listening: `http://127.0.0.1:${port}` })));
const stop = () => {
  void io.close(() => void Promise.all([pub.quit(), sub.quit()]).finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
