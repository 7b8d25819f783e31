import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { jsApiErrorCode, JS_STREAM_NAME_IN_USE, JS_STREAM_NOT_FOUND } from './errors.js';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX, fanoutRepublish, roomStreamWildcard } from './subjects.js';

export interface MessageStreamOptions {
  name?: string;
  prefix?: string;
  /** How long the stream keeps messages: the longest outage the pipeline can catch up from. */
  maxAgeMs?: number;
  maxBytes?: number;
  duplicateWindowMs?: number;
}

export const DEFAULT_STREAM_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_STREAM_MAX_BYTES = 8 * 1024 ** 3;
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * Limits retention with discard=new: when the stream is full the edge's publish fails (the
 * sender is told to retry) instead of the oldest, maybe not yet ingested, message vanishing.
 * What it stores it republishes to the rooms' fanout subjects (edges follow those), and it
 * answers direct gets (edges fill gaps of their fanout and read the newest of a room with them).
 */
export function messageStreamConfig(opts: MessageStreamOptions = {}): StreamSpec {
  const prefix = opts.prefix ?? DEFAULT_SUBJECT_PREFIX;
  return {
    name: opts.name ?? DEFAULT_STREAM_NAME,
    subjects: [roomStreamWildcard(prefix)],
    republish: fanoutRepublish(prefix),
    allow_direct: true,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_age: nanos(opts.maxAgeMs ?? DEFAULT_STREAM_MAX_AGE_MS),
    max_bytes: opts.maxBytes ?? DEFAULT_STREAM_MAX_BYTES,
    max_msg_size: 64 * 1024,
    duplicate_window: nanos(opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
}

export type StreamSpec = Partial<StreamConfig> & { name: string; subjects: string[] };

/**
 * The one way a stream comes to exist: created when missing, brought to `spec` when it exists
 * and differs in a field the spec sets (so an owner that changes a limit changes the stream),
 * left alone otherwise. Safe for several callers at once. Only the stream's owner calls it:
 * its NATS user is the one allowed to create and update that stream.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<void> {
  let current: StreamConfig | undefined;
  try {
    current = (await jsm.streams.info(spec.name)).config;
  } catch (err) {
    if (jsApiErrorCode(err) !== JS_STREAM_NOT_FOUND) throw err;
  }
  if (current === undefined) {
    try {
      await jsm.streams.add(spec);
      return;
    } catch (err) {
      if (jsApiErrorCode(err) !== JS_STREAM_NAME_IN_USE) throw err;
      current = (await jsm.streams.info(spec.name)).config;
    }
  }
  if (differs(current, spec)) await jsm.streams.update(spec.name, spec);
}

function differs(current: StreamConfig, spec: StreamSpec): boolean {
  return Object.entries(spec).some(([k, v]) => JSON.stringify((current as unknown as Record<string, unknown>)[k]) !== JSON.stringify(v));
}

/** Streams that carry one service's events to others (room events, session events). */
export function eventStreamConfig(opts: { name: string; subjects: string[]; maxAgeMs?: number; duplicateWindowMs: number }): StreamSpec {
  return {
    name: opts.name,
    subjects: opts.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs ?? 0),
    duplicate_window: nanos(opts.duplicateWindowMs),
    num_replicas: 1,
  };
}

/** The message stream, created or brought to its configuration (edge and ingestion both own it). */
export function ensureMessageStream(jsm: JetStreamManager, opts: MessageStreamOptions = {}): Promise<void> {
  return ensureStream(jsm, messageStreamConfig(opts));
}
