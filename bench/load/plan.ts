/**
 * The workload, as pure functions so the runner, the workers and the tests agree on it.
 *
 * Client i joins room i % rooms; room r lives wholly in worker r % workers, so every sender and
 * every receiver of a room share one process and one monotonic clock: a latency sample is
 * `performance.now()` at receipt minus the `performance.now()` the sender wrote into the body.
 */
export interface Workload {
  clients: number;
  rooms: number;
  /** Messages sent per second, all clients together. */
  rate: number;
  seconds: number;
  bodyBytes: number;
}

export interface ClientSlot {
  client: number;
  room: number;
}

export function roomOf(client: number, rooms: number): number {
  return client % rooms;
}

/** Clients per worker; a room never spans two workers. */
export function assignClients(clients: number, rooms: number, workers: number): ClientSlot[][] {
  if (clients < 1 || rooms < 1 || workers < 1) throw new RangeError('clients, rooms and workers must be positive');
  const out: ClientSlot[][] = Array.from({ length: workers }, () => []);
  for (let c = 0; c < clients; c++) {
    const room = roomOf(c, rooms);
    out[room % workers]!.push({ client: c, room });
  }
  return out;
}

/** How many messages a sender at `rate`/s should have sent `elapsedMs` into a run of `total`. */
export function dueBy(rate: number, elapsedMs: number, total: number): number {
  return Math.min(total, Math.floor((rate * elapsedMs) / 1000));
}

/** A worker's share of the aggregate rate, proportional to the clients it holds. */
export function shareOf(rate: number, workerClients: number, allClients: number): number {
  return allClients === 0 ? 0 : (rate * workerClients) / allClients;
}

/** The saturation ladder: `from`, times `factor` each step (rounded to 100), up to `max`. */
export function saturationRates(from: number, max: number, factor = 1.5): number[] {
  if (!(factor > 1) || !(from > 0)) throw new RangeError('saturation needs from > 0 and factor > 1');
  const out: number[] = [];
  for (let r = from; Math.round(r / 100) * 100 <= max; r *= factor) out.push(Math.max(100, Math.round(r / 100) * 100));
  return out;
}

export interface StepOutcome {
  targetRate: number;
  sentRate: number;
  expected: number;
  delivered: number;
  p99Ms: number;
}

/**
 * A step kept up when (nearly) every delivery arrived before the grace period ended and p99
 * stayed under `maxP99Ms`: a server that falls behind shows a queue, and a queue shows as a
 * p99 that grows with the step's length.
 */
export function keptUp(s: StepOutcome, maxP99Ms = 500): boolean {
  return s.expected > 0 && s.delivered >= 0.99 * s.expected && s.p99Ms < maxP99Ms;
}

/** True when the generator could not send at the rate asked: the step measured the generator. */
export function generatorBound(s: StepOutcome): boolean {
  return s.sentRate < 0.9 * s.targetRate;
}

/** `<sentAt ms with 3 decimals> xxxx…` padded to `bytes` (the body every peer carries). */
export function makeBody(sentAtMs: number, bytes: number): string {
  const head = `${sentAtMs.toFixed(3)} `;
  return head.length >= bytes ? head.trimEnd() : head + 'x'.repeat(bytes - head.length);
}

export function sentAtOf(body: string): number {
  const sp = body.indexOf(' ');
  return Number(sp < 0 ? body : body.slice(0, sp));
}

/**
 * The body of a `{"type":"message",…"body":"…"}` frame without a full JSON.parse: the generator
 * reads every delivery, and on two shared cores its parsing would otherwise cap what it can
 * measure. Bodies are digits, a dot, a space and `x`, so they hold no escapes.
 */
export function bodyOfFrame(frame: string): string | undefined {
  const at = frame.indexOf('"body":"');
  if (at < 0) return undefined;
  const start = at + 8;
  const end = frame.indexOf('"', start);
  return end < 0 ? undefined : frame.slice(start, end);
}
