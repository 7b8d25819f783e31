import type uWS from 'uWebSockets.js';
import type { Logger } from '@parley/log';
import { isParleyError } from '@parley/errors';
import type { Admitted } from './admission.js';
import { loadBacklog, resumeFloor, type BacklogDeps } from './join.js';
import type { RateLimiter } from './rate-limit.js';
import type { RoomHub } from './room-hub.js';
import type { RoomRegistry } from './room-registry.js';
import { CloseCodes, type CommandFrame, type ErrorFrameCode, type ServerFrame } from '@parley/contracts';
import { secondsSince } from '@parley/metrics';
import { SpanKind, startSpan, withSpan, type Tracer } from '@parley/tracing';
import type { EdgeMetrics } from './metrics.js';
import type { CommandHandler, ReadMarks } from './commands.js';
import { TypingThrottle, type EphemeralBus } from './ephemeral.js';
import type { Presence } from './presence.js';
import { PONG_FRAME, ackFrame, errorFrame, historyFrame, historyUnavailableFrame, messageUpdatedFrame, parseClientFrame, presenceFrame, unreadFrame } from './protocol.js';

/** uWS copies the own properties of user data into its own object, so the Conn travels inside one. */
export interface SocketData {
  conn: Conn;
}

export interface ConnLimits {
  maxBodyBytes: number;
  historyLimit: number;
  maxInFlight: number;
  maxStrikes: number;
  strikeWindowMs: number;
  /** Live frames held for a socket while its history loads; beyond this it must resume later. */
  maxPendingJoin: number;
}

export interface ConnServices {
  hub: RoomHub;
  registry: RoomRegistry;
  limiter: RateLimiter;
  commands: CommandHandler;
  /** Read marks and unread counts (chat-query-svc); none: `read` frames are ignored. */
  reads?: ReadMarks | undefined;
  /** Typing and receipts to the room's other edges; none: they stay on this socket. */
  ephemeral?: EphemeralBus | undefined;
  /** Who is online across edges; none: no presence frames. */
  presence?: Presence | undefined;
  backlog: BacklogDeps;
  /** Frames in and out by type, and each command's time to its answer (see metrics.ts). */
  metrics: EdgeMetrics;
  /** Each command is the root of its message's trace (undefined: tracing off). */
  tracer?: Tracer | undefined;
}

type FrameType = ServerFrame['type'];
/** How a command ended, for parley_ws_send_duration_seconds. */
type SendOutcome = 'acked' | 'rate_limited' | 'unavailable' | 'refused';

/** A change announced while the socket was joining: sent after history unless it is older. */
interface PendingUpdate {
  id: bigint;
  changedAt: number;
  frame: string;
}

/** Bits of Conn.state: three booleans in one small integer field. */
const CLOSED = 1;
const JOINING = 2;
/** Counted in the room's presence (so the close must take it out again). */
const PRESENT = 4;

/**
 * One member's socket in one room: its join (buffer live, load history, flush, go live), its
 * sends and its strikes. Invariant: after `closed` is set nothing touches `ws` again (uWS
 * throws on a closed socket), so every async continuation checks it first.
 *
 * Memory: an edge holds tens of thousands of these idle, so a Conn keeps only what an idle
 * socket needs (docs/scaling.md, "Memory per idle socket"): the services, limits and logger are
 * shared by every socket, flags share one field, what only the join needs (resume point,
 * buffers) is dropped once live, and what few sockets use (typing throttle, strike window) is
 * created on first use. No per-socket closures or timers.
 */
export class Conn {
  readonly roomId: string;
  /** sha-256 (hex) of the session token: how a session.revoked event names this socket. */
  readonly tokenHash: string;
  private ws: uWS.WebSocket<SocketData> | undefined;
  private state = JOINING;
  /**
   * Live frames that arrived while the history loaded, by id. Created on the first one and
   * dropped once live: most joins see none, and an idle socket should hold nothing it no longer needs.
   */
  private pending: Map<bigint, string> | undefined;
  private pendingUpdates: PendingUpdate[] | undefined;
  /** Created by the first typing frame: most sockets never send one. */
  private typingThrottle: TypingThrottle | undefined;
  /** For the history request and the checks of commands (chat-query-svc acts on the user's behalf). */
  private token: string | undefined;
  private readonly caller: Admitted['caller'];
  /** The resume point, needed only until the join has flushed. */
  private lastId: bigint | undefined;
  private inFlight = 0;
  /** Rejected frames in the current strike window; created by the first rejection. */
  private strikes: { count: number; windowStart: number } | undefined;

  constructor(
    admitted: Admitted,
    private readonly ip: string,
    private readonly limits: ConnLimits,
    private readonly services: ConnServices,
    private readonly log: Logger,
  ) {
    this.roomId = admitted.roomId;
    this.tokenHash = admitted.tokenHash;
    this.token = admitted.token;
    this.caller = admitted.caller;
    this.lastId = admitted.lastId;
  }

  get userId(): string {
    return this.caller.id;
  }

  /** When the session expires (epoch ms; 0 = unknown): the socket is closed then (4401). */
  get sessionExpiresAtMs(): number {
    return this.caller.sessionExpiresAtMs;
  }

  private get closed(): boolean {
    return (this.state & CLOSED) !== 0;
  }

  open(ws: uWS.WebSocket<SocketData>): void {
    this.ws = ws;
    this.services.registry.add(this);
    // acquire counts the reference synchronously; onClose always releases it.
    const subscribed = this.services.hub.acquire(this.roomId);
    void this.join(subscribed);
    // After acquire: closing here releases the reference it just took.
    this.services.registry.closeIfGone(this);
  }

  private async join(subscribed: Promise<void>): Promise<void> {
    try {
      await subscribed;
    } catch (err) {
      this.log.warn({ err, roomId: this.roomId }, 'room subscription failed');
      return this.end(CloseCodes.SERVICE_RESTART, 'live subscription failed: reconnect and resume');
    }
    // Up in the room (others see the join) and the room's roster known here, beside the history.
    const presence = this.closed ? undefined : this.services.presence;
    const rosterReady = presence?.connect(this.roomId, this.userId, this.caller.displayName);
    if (presence) this.state |= PRESENT;
    const backlog = await loadBacklog(this.services.backlog, {
      roomId: this.roomId,
      token: this.token ?? '',
      limit: this.limits.historyLimit,
      ...(this.lastId === undefined ? {} : { lastId: this.lastId }),
      isBuffered: (id) => this.pending?.has(id) ?? false,
    });
    if (this.closed || !this.ws) return;
    const ws = this.ws;
    const sent = new Set<bigint>();
    /** The change time of each copy sent, so an older buffered change does not undo it. */
    const shown = new Map<bigint, number>();
    const out = this.services.metrics.framesOut;
    let live = 0;
    let updates = 0;
    ws.cork(() => {
      if (backlog.kind === 'history') {
        for (const m of backlog.messages) {
          sent.add(m.id);
          shown.set(m.id, m.changedAt);
        }
        ws.send(historyFrame(this.roomId, backlog.messages.map((m) => m.json), backlog.hasMore));
        out.inc({ type: 'history' });
        for (const m of backlog.changed) {
          if ((shown.get(m.id) ?? -1) > m.changedAt) continue;
          shown.set(m.id, m.changedAt);
          ws.send(messageUpdatedFrame(m.json));
          updates += 1;
        }
      } else {
        ws.send(historyUnavailableFrame(this.roomId, backlog.code));
        out.inc({ type: 'history_unavailable' });
      }
      const after = this.lastId === undefined ? 0n : resumeFloor(this.lastId);
      if (this.pending) {
        for (const [id, frame] of this.pending) {
          if (sent.has(id) || id <= after) continue;
          ws.send(frame);
          live += 1;
        }
      }
      if (this.pendingUpdates) {
        for (const u of this.pendingUpdates) {
          if ((shown.get(u.id) ?? -1) > u.changedAt) continue;
          ws.send(u.frame);
          updates += 1;
        }
      }
      // Same tick as the flush: no live message can fall between the buffer and the topic.
      ws.subscribe(this.services.registry.topicOf(this.roomId));
    });
    if (live > 0) out.inc({ type: 'message' }, live);
    if (updates > 0) out.inc({ type: 'message_updated' }, updates);
    this.state &= ~JOINING;
    this.pending = undefined;
    this.pendingUpdates = undefined;
    this.lastId = undefined;
    this.services.registry.markLive(this);
    if (presence && rosterReady) {
      await rosterReady;
      if (!this.closed) this.send(presenceFrame(this.roomId, presence.online(this.roomId)), 'presence');
    }
    // The member's own counts, after the history (not holding it up): one search request.
    const reads = this.services.reads;
    if (reads && backlog.kind === 'history') {
      reads.roomUnread(this.roomId, this.token ?? '').then(
        (s) => this.send(unreadFrame(this.roomId, s.messages, s.mentions), 'unread'),
        () => undefined,
      );
    }
  }

  /** A live frame that arrived while the history was loading. */
  buffer(id: bigint, frame: string): void {
    if ((this.state & (JOINING | CLOSED)) !== JOINING) return;
    this.pending ??= new Map();
    if (this.pending.has(id)) return;
    this.pending.set(id, frame);
    if (this.pending.size > this.limits.maxPendingJoin) this.end(CloseCodes.SLOW_CONSUMER, 'too much traffic while joining: reconnect and resume');
  }

  /** A change announced while the history loads (the registry has built the frame for this user). */
  bufferUpdate(id: bigint, changedAt: number, frame: string): void {
    if ((this.state & (JOINING | CLOSED)) !== JOINING) return;
    this.pendingUpdates ??= [];
    this.pendingUpdates.push({ id, changedAt, frame });
    if (this.pendingUpdates.length > this.limits.maxPendingJoin) this.end(CloseCodes.SLOW_CONSUMER, 'too much traffic while joining: reconnect and resume');
  }

  get isJoining(): boolean {
    return (this.state & JOINING) !== 0;
  }

  onFrame(data: ArrayBuffer, isBinary: boolean): void {
    const parsed = parseClientFrame(data, isBinary, this.limits.maxBodyBytes);
    this.services.metrics.framesIn.inc({ type: parsed.ok ? parsed.frame.type : 'invalid' });
    if (!parsed.ok) return this.reject(parsed.code, parsed.message, parsed.client_msg_id);
    if (parsed.frame.type === 'ping') return this.send(PONG_FRAME, 'pong');
    if (parsed.frame.type === 'typing') return this.typing();
    if (parsed.frame.type === 'read') return void this.services.registry.track(this.read(parsed.frame.message_id));
    const frame = parsed.frame;
    if (this.inFlight >= this.limits.maxInFlight) {
      return this.reject('too_many_in_flight', `at most ${this.limits.maxInFlight} unacknowledged commands`, frame.client_msg_id);
    }
    this.inFlight += 1;
    const work = this.deliver(frame).finally(() => {
      this.inFlight -= 1;
    });
    this.services.registry.track(work);
  }

  /** Throttled per socket; a flood of typing frames is dropped, never a strike. */
  private typing(): void {
    if (this.isJoining || !(this.typingThrottle ??= new TypingThrottle()).allow()) return;
    this.services.ephemeral?.publish(this.roomId, { kind: 'typing', user_id: this.userId, name: this.caller.displayName });
  }

  /** Moves the read mark; the room learns it (receipts), this socket its counts (unread). */
  private async read(messageId: string): Promise<void> {
    const reads = this.services.reads;
    if (!reads) return;
    try {
      const state = await reads.markRead(this.roomId, this.token ?? '', messageId);
      this.send(unreadFrame(this.roomId, state.messages, state.mentions), 'unread');
      if (state.readUpTo) this.services.ephemeral?.publish(this.roomId, { kind: 'receipt', user_id: this.userId, message_id: state.readUpTo });
    } catch (err) {
      const notFound = isParleyError(err) && err.code === 'NOT_FOUND';
      this.send(errorFrame(notFound ? 'message_not_found' : 'unavailable', notFound ? 'no such message in this room (yet)' : 'the read mark could not be stored now; send it again'), 'error');
    }
  }

  /** Every command counts against the send rate: a change costs the pipeline what a message does. */
  private async deliver(frame: CommandFrame): Promise<void> {
    const started = process.hrtime.bigint();
    const { tracer } = this.services;
    const span = tracer ? startSpan(tracer, `ws ${frame.type}`, SpanKind.SERVER, { 'parley.room_id': this.roomId, 'parley.client_msg_id': frame.client_msg_id, 'enduser.id': this.userId }) : undefined;
    // The sampling decision of the message's whole trace. Sampled, the span is active across the
    // awaits: the PrepareCommand call and the JetStream publish become its children; otherwise
    // nothing below it traces (no context to carry, no header on the message).
    const outcome = span?.isRecording() ? await withSpan(span, () => this.answer(frame)) : await this.answer(frame);
    span?.setAttribute('parley.outcome', outcome).end();
    this.services.metrics.sendSeconds.observe({ outcome }, secondsSince(started));
  }

  private async answer(frame: CommandFrame): Promise<SendOutcome> {
    const { caller } = this;
    const clientMsgId = frame.client_msg_id;
    const { commands } = this.services;
    try {
      const [rate, prepared] = await Promise.all([this.services.limiter.hit('send', caller.id, this.ip), commands.prepare(this.roomId, this.token ?? '', frame)]);
      if (!rate.allowed) {
        this.reject('rate_limited', `send rate exceeded; retry in ${rate.retryAfterMs} ms`, clientMsgId, rate.retryAfterMs);
        return 'rate_limited';
      }
      if (prepared === 'unavailable') {
        this.send(errorFrame('unavailable', 'the message store cannot check this now; retry with the same client_msg_id', clientMsgId), 'error');
        return 'unavailable';
      }
      const outcome = await commands.commit(this.roomId, caller, frame, prepared);
      if (outcome.ok) {
        this.send(ackFrame(clientMsgId, outcome.id), 'ack');
        return 'acked';
      }
      this.send(errorFrame(outcome.code, outcome.message, clientMsgId), 'error');
      return 'refused';
    } catch (err) {
      if (!isParleyError(err) || err.code === 'INTERNAL') this.log.error({ err, roomId: this.roomId }, 'send failed');
      this.send(errorFrame('unavailable', 'message not stored; retry with the same client_msg_id', clientMsgId), 'error');
      return 'unavailable';
    }
  }

  /**
   * Answers a rejected frame; too many within a window close the socket. Rate limiting closes
   * with its own code so a client can tell "slow down" from "your frames are broken".
   */
  private reject(code: ErrorFrameCode, message: string, clientMsgId?: string, retryAfterMs?: number): void {
    this.send(errorFrame(code, message, clientMsgId, retryAfterMs), 'error');
    const now = Date.now();
    const strikes = (this.strikes ??= { count: 0, windowStart: now });
    if (now - strikes.windowStart > this.limits.strikeWindowMs) {
      strikes.windowStart = now;
      strikes.count = 0;
    }
    strikes.count += 1;
    if (strikes.count >= this.limits.maxStrikes) {
      this.end(code === 'rate_limited' ? CloseCodes.RATE_ABUSE : CloseCodes.PROTOCOL_ABUSE, 'too many rejected frames');
    }
  }

  /** One frame to this socket, counted by its type. */
  send(frame: string, type: FrameType): void {
    if (this.closed || !this.ws) return;
    this.ws.send(frame);
    this.services.metrics.framesOut.inc({ type });
  }

  end(code: number, reason: string): void {
    if (this.closed || !this.ws) return;
    this.ws.end(code, reason);
  }

  bufferedAmount(): number {
    return this.closed || !this.ws ? 0 : this.ws.getBufferedAmount();
  }

  onClose(): void {
    if (this.closed) return;
    this.state |= CLOSED;
    this.ws = undefined;
    this.pending = undefined;
    this.pendingUpdates = undefined;
    this.token = undefined;
    this.services.registry.remove(this);
    this.services.hub.release(this.roomId);
    if (this.state & PRESENT) this.services.presence?.disconnect(this.roomId, this.userId);
  }
}
