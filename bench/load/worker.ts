/**
 * A load-generator process (forked by generator.ts). It holds whole rooms: every sender and
 * receiver of a room lives here, so send-to-receive times come from one monotonic clock.
 */
import { performance } from 'node:perf_hooks';
import { connectClient, type LoadClient, type Target } from './clients.js';
import { Histogram } from './histogram.js';
import { dueBy, makeBody, sentAtOf } from './plan.js';
import type { ClientSpec, ConnectResult, Request, RunResult } from './protocol.js';

interface Held {
  client: LoadClient;
  room: string;
  open: boolean;
}

let held: Held[] = [];
const roomSize = new Map<string, number>();
let run: { start: number; windowEnd: number; latency: Histogram; ack: Histogram; delivered: number; inWindow: number; acked: number; closed: number; errors: Record<string, number>; pending: Map<string, number> } | undefined;

function onBody(body: string): void {
  const now = performance.now();
  const sentAt = sentAtOf(body);
  // Deliveries of an earlier step that arrive late belong to that step, not this one.
  if (!run || !(sentAt >= run.start)) return;
  run.delivered++;
  if (now <= run.windowEnd) run.inWindow++;
  run.latency.record(now - sentAt);
}

async function connect(target: Target, specs: ClientSpec[], concurrency: number): Promise<ConnectResult> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const work = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      const h: Held = { client: { send: () => undefined, close: () => undefined }, room: spec.room, open: true };
      try {
        h.client = await connectClient(target, spec.room, spec.token, {
          onBody,
          onAck: (id) => {
            const at = run?.pending.get(id);
            if (run && at !== undefined) {
              run.pending.delete(id);
              run.acked++;
              run.ack.record(performance.now() - at);
            }
          },
          onError: (code) => run && (run.errors[code] = (run.errors[code] ?? 0) + 1),
          onClose: () => {
            h.open = false;
            if (run) run.closed++;
          },
        });
        held.push(h);
        roomSize.set(spec.room, (roomSize.get(spec.room) ?? 0) + 1);
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  return { connected: held.length, failed, ...(firstError ? { firstError } : {}) };
}

async function runLoad(rate: number, seconds: number, graceMs: number, bodyBytes: number): Promise<RunResult> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  run = { start, windowEnd: start + seconds * 1000, latency: new Histogram(), ack: new Histogram(), delivered: 0, inWindow: 0, acked: 0, closed: 0, errors: {}, pending: new Map() };
  const r = run;
  let attempts = 0;
  let sent = 0;
  let expected = 0;
  let cursor = 0;
  const tag = `${process.pid.toString(36)}-${Math.round(start).toString(36)}`;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = dueBy(rate, performance.now() - start, total);
      for (; attempts < due; attempts++) {
        // A client the server closed is skipped and not counted as sent (closedDuringRun says so).
        const h = held[cursor++ % held.length]!;
        if (!h.open) continue;
        const id = `${tag}-${sent++}`;
        const now = performance.now();
        r.pending.set(id, now);
        h.client.send(id, makeBody(now, bodyBytes));
        expected += roomSize.get(h.room) ?? 0;
      }
      if (attempts >= total) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  const sendSeconds = (performance.now() - start) / 1000;
  const graceEnd = performance.now() + graceMs;
  while (r.delivered < expected && performance.now() < graceEnd) await new Promise((res) => setTimeout(res, 20));
  run = undefined;
  return { sent, sendSeconds, acked: r.acked, errors: r.errors, expected, delivered: r.delivered, deliveredInWindow: r.inWindow, closedDuringRun: r.closed, latency: r.latency.toJSON(), ack: r.ack.toJSON() };
}

function closeAll(): { closed: number } {
  const n = held.length;
  for (const h of held) h.client.close();
  held = [];
  roomSize.clear();
  return { closed: n };
}

process.on('message', (msg: Request) => {
  const reply = (p: Promise<unknown>) =>
    p.then(
      (result) => process.send!({ seq: msg.seq, ok: true, result }),
      (err: unknown) => process.send!({ seq: msg.seq, ok: false, error: (err as Error).message }),
    );
  switch (msg.op) {
    case 'connect':
      return void reply(connect(msg.target, msg.clients, msg.concurrency));
    case 'run':
      return void reply(runLoad(msg.rate, msg.seconds, msg.graceMs, msg.bodyBytes));
    case 'close':
      return void reply(Promise.resolve(closeAll()));
  }
});
process.on('disconnect', () => process.exit(0));
