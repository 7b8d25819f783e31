/**
 * Sockets for bench/rooms.ts: many joins at bounded concurrency, each timed from the upgrade
 * request to the history frame (the edge's "you are in"), and a steady sender whose bodies
 * carry their send time so every receiver records send→receive on this process's clock.
 * Frames are read with string searches, not JSON.parse: at 100,000 deliveries/s the
 * generator's parsing would be measured instead of the edge.
 */
import WebSocket from 'ws';
import { Histogram } from './histogram.js';

export interface Held {
  ws: WebSocket;
  room: string;
}

export interface Tally {
  /** Only bodies starting with this count (a run's own messages). */
  tag: string;
  latency: Histogram;
  delivered: number;
  acked: number;
  errors: Record<string, number>;
  closed: number;
}

export const newTally = (tag: string): Tally => ({ tag, latency: new Histogram(), delivered: 0, acked: 0, errors: {}, closed: 0 });

const now = () => performance.timeOrigin + performance.now();

function onFrame(t: { current?: Tally }, data: WebSocket.RawData): void {
  const run = t.current;
  if (!run) return;
  const s = String(data);
  if (s.startsWith('{"type":"message"')) {
    const at = s.indexOf(`"body":"${run.tag} `);
    if (at < 0) return;
    const start = at + 9 + run.tag.length;
    run.delivered += 1;
    run.latency.record(now() - Number(s.slice(start, s.indexOf('"', start))));
  } else if (s.startsWith('{"type":"ack"')) {
    run.acked += 1;
  } else if (s.startsWith('{"type":"error"')) {
    const code = /"code":"([^"]+)"/.exec(s)?.[1] ?? 'unknown';
    run.errors[code] = (run.errors[code] ?? 0) + 1;
  }
}

/** Where the sockets report: set `current` to count a run, unset it to ignore frames. */
export const frameSink: { current?: Tally } = {};

/** One socket, resolved at its history frame; rejects on refusal, close or 20 s without it. */
function joinOne(base: string, room: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base}/v1/rooms/${room}/ws`, ['parley.v1', `parley.token.${token}`], { perMessageDeflate: false, skipUTF8Validation: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no history within 20 s'))), 20_000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      if (!String(data).startsWith('{"type":"history"')) return reject(new Error(`first frame was not history: ${String(data).slice(0, 120)}`));
      ws.on('message', (d) => onFrame(frameSink, d));
      ws.on('close', () => frameSink.current && (frameSink.current.closed += 1));
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => (clearTimeout(timer), reject(new Error(`upgrade refused: ${res.statusCode}`))));
    ws.once('error', (err) => (clearTimeout(timer), reject(err)));
    ws.once('close', (code) => (clearTimeout(timer), reject(new Error(`closed ${code} before history`))));
  });
}

export interface JoinResult {
  held: Held[];
  latency: Histogram;
  failed: number;
  firstError?: string;
  seconds: number;
  stoppedBy?: string;
}

/** Joins `rooms[i]` with `tokenOf(i)` for every i, `concurrency` at a time, until `deadline`. */
export async function joinMany(base: string, rooms: string[], tokenOf: (i: number) => string, concurrency: number, deadline: number): Promise<JoinResult> {
  const held: Held[] = [];
  const latency = new Histogram();
  let failed = 0;
  let firstError: string | undefined;
  let stoppedBy: string | undefined;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < rooms.length) {
      if (Date.now() > deadline) {
        stoppedBy = 'join deadline';
        return;
      }
      const i = next++;
      const started = performance.now();
      try {
        held.push({ ws: await joinOne(base, rooms[i]!, tokenOf(i)), room: rooms[i]! });
        latency.record(performance.now() - started);
      } catch (err) {
        failed += 1;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (stoppedBy) stoppedBy = `join deadline: ${held.length} of ${rooms.length} joined`;
  return { held, latency, failed, ...(firstError ? { firstError } : {}), seconds: (performance.now() - t0) / 1000, ...(stoppedBy ? { stoppedBy } : {}) };
}

/** `rate` sends/s for `seconds`, a batch every 20 ms, round-robin over `senders`; returns how many. */
export async function sendSteady(senders: WebSocket[], tag: string, rate: number, seconds: number): Promise<number> {
  const tick = 20;
  const start = performance.now();
  let sent = 0;
  for (let t = 0; t < (seconds * 1000) / tick; t++) {
    const due = Math.round(((t + 1) * tick * rate) / 1000);
    for (; sent < due; sent++) {
      const ws = senders[sent % senders.length]!;
      if (ws.readyState === WebSocket.OPEN) ws.send(`{"type":"send","client_msg_id":"${tag}-${sent}","body":"${tag} ${now()}"}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, start + (t + 1) * tick - performance.now())));
  }
  return sent;
}

export function closeAll(held: Held[]): void {
  for (const h of held) h.ws.terminate();
}
