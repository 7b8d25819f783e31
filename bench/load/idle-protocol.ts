/** What bench/connections.ts and its generator processes (idle-worker.ts) say over the fork IPC channel. */
import type { HistogramJson } from './protocol.js';

export type IdleKind = 'parley' | 'uws' | 'socketio';

export interface IdleSpec {
  url: string;
  /** The loopback source address the socket binds to (127.0.0.x). */
  localAddress: string;
  protocols?: string[];
  /** Socket.io only: the room, as the peer reads it from the query. */
  room?: string;
}

export type IdleCommand =
  | { op: 'open'; kind: IdleKind; specs: IdleSpec[]; concurrency: number; deadlineMs: number }
  | { op: 'held' }
  | { op: 'close' };

export interface OpenResult {
  opened: number;
  failed: number;
  /** Specs not tried because the deadline passed first. */
  notTried: number;
  firstError?: string;
  seconds: number;
  /** The generator process's own CPU over the open phase. */
  cpuSeconds: number;
  /** Each join, from the socket's creation to the server's "in the room" signal. */
  latency: HistogramJson;
}

export type IdleRequest = IdleCommand & { seq: number };
export type IdleReply = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };
