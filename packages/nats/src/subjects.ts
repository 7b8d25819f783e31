import { ROOM_TOKEN_PATTERN } from '@parley/contracts';
import { ParleyError } from '@parley/errors';

/**
 * NATS subjects and the JetStream stream that captures them.
 *
 *   <prefix>.room.<roomId>.msg     one subject per room; the edge publishes events here (sends,
 *                                  edits, deletes, reactions) and every edge holding members of
 *                                  the room follows it (fanout); ingestion carries it to Kafka
 *   <prefix>.room.<roomId>.upd     what a change made of a message, once Cassandra holds it
 *                                  (chat-command-cql-svc publishes; edges follow; never ingested)
 *   stream <name>                  subject <prefix>.room.*.* (both of the above), file storage:
 *                                  the durable buffer between the edge's PubAck and ingestion;
 *                                  it republishes what it stores to
 *   <prefix>.fan.<roomId>.<kind>   core NATS, for edges (fanout.ts): the room's stored messages
 *                                  in stream order, with their stream sequences
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

/** Where the store announces a message's new state (MessageChanged in @parley/contracts). */
export function roomUpdateSubject(roomId: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  return `${roomSubject(roomId, prefix).slice(0, -'.msg'.length)}.upd`;
}

/**
 * What edges tell each other about a room that is never stored (typing, read receipts):
 * `<prefix>.eph.room.<roomId>`, core NATS, outside what the message stream captures.
 */
export function roomEphemeralSubject(roomId: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  if (!isValidRoomToken(roomId)) throw new ParleyError('VALIDATION_FAILED', `invalid room id ${JSON.stringify(roomId)} for a subject`);
  return `${prefix}.eph.room.${roomId}`;
}

export function roomEphemeralWildcard(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  return `${prefix}.eph.room.*`;
}

/** The room id inside an ephemeral subject, or undefined when the subject is not one. */
export function roomOfEphemeralSubject(subject: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string | undefined {
  const head = `${prefix}.eph.room.`;
  if (!subject.startsWith(head)) return undefined;
  const room = subject.slice(head.length);
  return isValidRoomToken(room) ? room : undefined;
}

/** Where the stream republishes a room's stored messages, for edges (fanout.ts): both kinds. */
export function roomFanoutSubject(roomId: string, prefix: string): string {
  checkPrefix(prefix);
  if (!isValidRoomToken(roomId)) throw new ParleyError('VALIDATION_FAILED', `invalid room id ${JSON.stringify(roomId)} for a subject`);
  return `${prefix}.fan.${roomId}.*`;
}

/** The stream's RePublish: every stored message of `<prefix>.room.*.*` to its fanout subject. */
export function fanoutRepublish(prefix: string): { src: string; dest: string } {
  return { src: roomStreamWildcard(prefix), dest: `${prefix}.fan.{{wildcard(1)}}.{{wildcard(2)}}` };
}

/** What the message stream captures: every room's .msg and .upd. */
export function roomStreamWildcard(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  checkPrefix(prefix);
  return `${prefix}.room.*.*`;
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

/** The dedupe key of an announcement: a replayed change announces the same state once. */
export function updateMsgId(roomId: string, messageId: string, eventId: string): string {
  return `upd:${roomId}:${messageId}:${eventId}`;
}

/**
 * Room lifecycle events of room-svc (payloads: @parley/contracts events.ts):
 *   <prefix>.room.<roomId>.event.<type>      e.g. parley.events.room.9f…e1.event.room.deleted
 */
export const DEFAULT_EVENTS_PREFIX = 'parley.events';

export function roomEventSubject(prefix: string, roomId: string, type: string): string {
  checkPrefix(prefix);
  return `${prefix}.room.${roomId}.event.${type}`;
}

/** What an events stream captures, and what a follower of every room's events filters on. */
export function roomEventSubjects(prefix: string): { stream: string[]; filter: string } {
  checkPrefix(prefix);
  return { stream: [`${prefix}.room.>`], filter: `${prefix}.room.*.event.>` };
}

/** Session events of user-svc: <prefix>.session.revoked. */
export function sessionRevokedSubject(prefix: string): string {
  checkPrefix(prefix);
  return `${prefix}.session.revoked`;
}

export function sessionEventStreamSubjects(prefix: string): string[] {
  checkPrefix(prefix);
  return [`${prefix}.session.>`];
}
