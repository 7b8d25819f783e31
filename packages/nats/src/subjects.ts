import { ROOM_TOKEN_PATTERN } from '@parley/contracts';
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
