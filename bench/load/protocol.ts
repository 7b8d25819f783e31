/** What the runner and its generator workers say to each other over the fork IPC channel. */
import type { Target } from './clients.js';

export interface ClientSpec {
  room: string;
  token?: string;
}

export type Command =
  | { op: 'connect'; target: Target; clients: ClientSpec[]; concurrency: number }
  | { op: 'run'; rate: number; seconds: number; graceMs: number; bodyBytes: number }
  | { op: 'close' };

export interface HistogramJson {
  counts: number[];
  maxMs: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  firstError?: string;
}

export interface RunResult {
  sent: number;
  /** Seconds from the first send to the last. */
  sendSeconds: number;
  acked: number;
  errors: Record<string, number>;
  expected: number;
  delivered: number;
  /** Deliveries that arrived within the send window (throughput while sending). */
  deliveredInWindow: number;
  closedDuringRun: number;
  latency: HistogramJson;
  ack: HistogramJson;
}

export type Reply = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };
export type Request = Command & { seq: number };
