import { ROOM_TOKEN_PATTERN } from '@parley/contracts';
import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager, type StreamConfig } from 'nats';
import { ParleyError } from '@parley/errors';

/**
 * NATS subjects and the JetStream stream that captures them.
 *
 *   <prefix>.room.<roomId>.msg     one subject per room; the edge publishes envelopes here and
 *                                  every edge holding members of the room subscribes (fanout)
 *   stream <name>                  subjects <prefix>.room.*.msg, file storage: the durable
 *                                  buffer between the edge's PubAck and ingestion
 *
 * The prefix is `chat` in production; tests use a random one so streams never overlap.
 * Room lifecycle events must use other subjects: nothing but envelopes goes to `.msg`.
 */
export const DEFAULT_SUBJECT_PREFIX = 'chat';
export const DEFAULT_STREAM_NAME = 'CHAT_MESSAGES';

const ROOM_TOKEN = ROOM_TOKEN_PATTERN;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A room id is spliced into a subject: `.`, `*`, `>` or whitespace would change its meaning. */
export function isValidRoomToken(roomId: string): boolean {
  return ROOM_TOKEN.test(roomId);
}

function checkPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) throw new ParleyError('VALIDATION_FAILED', `invalid subject prefix ${JSON.stringify(prefix)}`);
}

export function roomSubject(roomId: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  if (!isValidRoomToken(roomId)) throw new ParleyError('VALIDATION_FAILED', `invalid room id ${JSON.stringify(roomId)} for a subject`);
  return `${prefix}.room.${roomId}.msg`;
}

export function roomSubjectWildcard(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  return `${prefix}.room.*.msg`;
}

/** The room id inside a room subject, or undefined when the subject is not one. */
export function roomOfSubject(subject: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string | undefined {
  const head = `${prefix}.room.`;
  if (!subject.startsWith(head) || !subject.endsWith('.msg')) return undefined;
  const room = subject.slice(head.length, -'.msg'.length);
  return isValidRoomToken(room) ? room : undefined;
}

/**
 * The JetStream dedupe key for a publish. A client retrying a send reuses its client message
 * id, so within the duplicate window the stream keeps one copy and answers the retry with
 * the first PubAck.
 */
export function publishMsgId(roomId: string, senderId: string, clientMsgId: string): string {
  return `${roomId}:${senderId}:${clientMsgId}`;
}

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
 */
export function messageStreamConfig(opts: MessageStreamOptions = {}): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: opts.name ?? DEFAULT_STREAM_NAME,
    subjects: [roomSubjectWildcard(opts.prefix)],
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

/** Creates the stream or brings an existing one to `config`. Safe for several callers at once. */
export async function ensureMessageStream(jsm: JetStreamManager, opts: MessageStreamOptions = {}): Promise<void> {
  const cfg = messageStreamConfig(opts);
  try {
    await jsm.streams.info(cfg.name);
  } catch {
    try {
      await jsm.streams.add(cfg);
      return;
    } catch (err) {
      if (!/already in use/i.test((err as Error).message)) throw err;
    }
  }
  await jsm.streams.update(cfg.name, cfg);
}
