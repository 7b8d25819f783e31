import { credentials, Metadata } from '@grpc/grpc-js';
import {
  MAX_DISTINCT_REACTIONS,
  MAX_MENTIONS,
  mentionedUsernames,
  messageSchema,
  type CommandFrame,
  type ErrorFrameCode,
  type Message,
  type MessageEvent,
} from '@parley/contracts';
import { parseId, timeOf, type NewEvent } from '@parley/envelope';
import { chatV1, fromGrpcError, messageFromProto, propagateTrace } from '@parley/proto';
import type { Logger } from '@parley/log';
import type { MessagePublisher } from './publisher.js';

/** What the store knows that a command's checks need (chat-query-svc PrepareCommand). */
export interface Prepared {
  /** The client_msg_id was logged before: the retry is answered with this, nothing new is logged. */
  logged?: { eventId: string; kind: string } | undefined;
  /** The message the command names, in its current state, if the store has it. */
  message?: Message | undefined;
  callerIsOwner: boolean;
}

export interface CommandOracle {
  prepare(roomId: string, token: string, clientMsgId: string, messageId?: string): Promise<Prepared>;
}

/** A member's read mark of a room and the counts after it (chat-query-svc MarkRead / RoomUnread). */
export interface ReadState {
  readUpTo: string;
  messages: number;
  mentions: number;
}

export interface ReadMarks {
  markRead(roomId: string, token: string, messageId: string): Promise<ReadState>;
  roomUnread(roomId: string, token: string): Promise<ReadState>;
}

/** Messages logged but maybe not stored yet: the room's stream (JetStreamRecentSource). */
export interface LoggedMessages {
  find(roomId: string, id: bigint): Promise<MessageEvent | undefined>;
}

export interface UserDirectory {
  idsOf(usernames: readonly string[]): Promise<string[]>;
}

export interface Caller {
  id: string;
  displayName: string;
}

export type Outcome = { ok: true; id: string } | { ok: false; code: ErrorFrameCode; message: string };

/** The event kind each command logs, as `client_ids.kind` records it. */
const KIND_OF: Record<CommandFrame['type'], NewEvent['kind']> = { send: 'message', edit: 'edit', delete: 'delete', react: 'reaction' };

const refuse = (code: ErrorFrameCode, message: string): Outcome => ({ ok: false, code, message });

/**
 * Turns a command frame into an event of the room's log, after the checks that can be made
 * here (the projections make the ones that must hold whatever reaches the log: only the
 * author's edits count, a delete counts for its author or with the owner flag set here).
 *
 *   1. a client_msg_id the store already logged answers the retry with the first event's id,
 *      at any age (JetStream's duplicate window covers only the first minutes); for a plain
 *      send only when the client marks it a resend (`retry: true`): asking the store for every
 *      send doubled the edge's CPU per send (bench/realtime.ts, measured both ways)
 *   2. the named message must be in this room and not deleted; edits are the author's, deletes
 *      the author's or the owner's; a new emoji beyond MAX_DISTINCT_REACTIONS is refused
 *   3. a message the store does not have yet but whose id is younger than `changeGraceMs` may be
 *      in flight between the stream and the store (a client edits what it just sent): it is
 *      looked up in the room's stream instead, as sent (its author known, later changes not)
 *   4. `@username` in a body becomes the user ids it names (unknown names stay text)
 *
 * The store being away fails a change (it cannot be checked) but not a send: a send then
 * relies on the stream's duplicate window alone.
 */
export class CommandHandler {
  constructor(
    private readonly deps: {
      oracle?: CommandOracle | undefined;
      users?: UserDirectory | undefined;
      logged?: LoggedMessages | undefined;
      publisher: () => MessagePublisher;
      changeGraceMs: number;
      log: Logger;
      now?: () => number;
    },
  ) {}

  /** Step 1 (it can run beside the rate limiter): what the store knows. */
  async prepare(roomId: string, token: string, frame: CommandFrame): Promise<Prepared | 'unavailable'> {
    const { oracle } = this.deps;
    if (!oracle) return { callerIsOwner: false };
    // A first send has nothing to look up: the stream's duplicate window covers a quick repeat,
    // and a resend says so (`retry`), which is when the store's retry keys are asked.
    if (frame.type === 'send' && frame.reply_to === undefined && frame.retry !== true) return { callerIsOwner: false };
    const target = frame.type === 'send' ? frame.reply_to : frame.message_id;
    try {
      const prepared = await oracle.prepare(roomId, token, frame.client_msg_id, target);
      if (prepared.message || prepared.logged || target === undefined || !this.mayBeInFlight(target)) return prepared;
      const inStream = await this.deps.logged?.find(roomId, parseId(target) ?? 0n);
      return inStream ? { ...prepared, message: inStream } : prepared;
    } catch (err) {
      this.deps.log.warn({ err, roomId }, 'could not prepare a command with the store');
      return frame.type === 'send' && frame.reply_to === undefined ? { callerIsOwner: false } : 'unavailable';
    }
  }

  /** Step 2: check and log. */
  async commit(roomId: string, caller: Caller, frame: CommandFrame, prepared: Prepared): Promise<Outcome> {
    const kind = KIND_OF[frame.type];
    if (prepared.logged) {
      if (prepared.logged.kind === kind) return { ok: true, id: prepared.logged.eventId };
      return refuse('invalid_client_msg_id', `client_msg_id was already used for a ${prepared.logged.kind}; use a new one for each command`);
    }
    const who = { room_id: roomId, sender_id: caller.id, sender_name: caller.displayName, client_msg_id: frame.client_msg_id };
    let event: NewEvent;
    if (frame.type === 'send') {
      if (frame.reply_to !== undefined) {
        const bad = this.checkTarget(frame.reply_to, prepared.message, 'reply_not_found');
        if (bad) return bad;
      }
      const mentions = await this.mentions(frame.body);
      event = { ...who, kind: 'message', body: frame.body, ...(frame.reply_to ? { reply_to: frame.reply_to } : {}), ...(mentions.length ? { mentions } : {}) };
    } else {
      const bad = this.checkTarget(frame.message_id, prepared.message, 'message_not_found');
      if (bad) return bad;
      const m = prepared.message;
      if (frame.type === 'edit') {
        if (m && m.sender_id !== caller.id) return refuse('not_author', 'only the author can edit a message');
        const mentions = await this.mentions(frame.body);
        event = { ...who, kind: 'edit', target_id: frame.message_id, body: frame.body, ...(mentions.length ? { mentions } : {}) };
      } else if (frame.type === 'delete') {
        const own = m !== undefined && m.sender_id === caller.id;
        if (m && !own && !prepared.callerIsOwner) return refuse('not_allowed', "only the author or the room's owner can delete a message");
        event = { ...who, kind: 'delete', target_id: frame.message_id, ...(!own && prepared.callerIsOwner ? { by_owner: true as const } : {}) };
      } else {
        const known = m?.reactions ?? [];
        if (frame.on && known.length >= MAX_DISTINCT_REACTIONS && !known.some((r) => r.emoji === frame.emoji)) {
          return refuse('too_many_reactions', `a message carries at most ${MAX_DISTINCT_REACTIONS} different emoji`);
        }
        event = { ...who, kind: 'reaction', target_id: frame.message_id, emoji: frame.emoji, on: frame.on };
      }
    }
    const logged = await this.deps.publisher().publishEvent(event);
    // The stream's duplicate window recognised the client_msg_id: a retry only if of the same kind.
    if (logged.kind !== kind) return refuse('invalid_client_msg_id', `client_msg_id was already used for a ${logged.kind}; use a new one for each command`);
    return { ok: true, id: logged.id };
  }

  private checkTarget(_id: string, m: Message | undefined, missing: ErrorFrameCode): Outcome | undefined {
    if (m) return m.deleted_at === undefined ? undefined : refuse('message_deleted', 'the message was deleted');
    return refuse(missing, 'no such message in this room');
  }

  /** Young enough to be between the stream and the store (see 3. above); not from the future. */
  private mayBeInFlight(id: string): boolean {
    const at = timeOf(parseId(id) ?? 0n);
    const now = (this.deps.now ?? Date.now)();
    return at <= now + 1000 && at > now - this.deps.changeGraceMs;
  }

  private async mentions(body: string): Promise<string[]> {
    const names = mentionedUsernames(body, MAX_MENTIONS);
    if (names.length === 0 || !this.deps.users) return [];
    try {
      return [...new Set(await this.deps.users.idsOf(names))];
    } catch (err) {
      this.deps.log.warn({ err }, 'mentions not resolved: user-svc unavailable');
      return [];
    }
  }
}

/** PrepareCommand on chat-query-svc, on behalf of the socket's user (their token goes along). */
export class GrpcCommandOracle implements CommandOracle, ReadMarks {
  private readonly client: chatV1.ChatQueryServiceClient;

  constructor(
    address: string,
    private readonly timeoutMs: number,
  ) {
    this.client = new chatV1.ChatQueryServiceClient(address, credentials.createInsecure(), { interceptors: [propagateTrace] });
  }

  prepare(roomId: string, token: string, clientMsgId: string, messageId?: string): Promise<Prepared> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => {
      this.client.prepareCommand({ roomId, clientMsgId, messageId: messageId ?? '' }, md, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err || !res) return reject(fromGrpcError(err!, 'chat-query-svc'));
        const parsed = res.message ? messageSchema.safeParse(messageFromProto(res.message)) : undefined;
        resolve({
          logged: res.loggedEventId ? { eventId: res.loggedEventId, kind: res.loggedKind } : undefined,
          message: parsed?.success ? parsed.data : undefined,
          callerIsOwner: res.callerIsOwner,
        });
      });
    });
  }

  markRead(roomId: string, token: string, messageId: string): Promise<ReadState> {
    return new Promise((resolve, reject) => {
      this.client.markRead({ roomId, messageId }, this.metadata(token), { deadline: Date.now() + this.timeoutMs }, (err, res) =>
        err || !res ? reject(fromGrpcError(err!, 'chat-query-svc')) : resolve(readState(res.state)),
      );
    });
  }

  roomUnread(roomId: string, token: string): Promise<ReadState> {
    return new Promise((resolve, reject) => {
      this.client.roomUnread({ roomId }, this.metadata(token), { deadline: Date.now() + this.timeoutMs }, (err, res) =>
        err || !res ? reject(fromGrpcError(err!, 'chat-query-svc')) : resolve(readState(res.state)),
      );
    });
  }

  private metadata(token: string): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  }

  close(): void {
    this.client.close();
  }
}

function readState(s: chatV1.ReadState | undefined): ReadState {
  return { readUpTo: s?.readUpTo ?? '', messages: s?.unreadMessages ?? 0, mentions: s?.unreadMentions ?? 0 };
}
