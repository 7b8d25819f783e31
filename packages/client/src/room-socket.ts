import {
  DEFAULT_MAX_BODY_BYTES,
  isBlankText,
  serverFrameSchema,
  utf8ByteLength,
  WS_SUBPROTOCOL,
  WS_TOKEN_PROTOCOL_PREFIX,
  type ErrorFrame,
  type HistoryFrame,
  type Message,
  type ServerFrame,
} from '@parley/contracts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { decideAfterClose, DEFAULT_RATE_PAUSE_MS, type EndReason } from './close-decision.js';
import { Emitter } from './emitter.js';
import { SendError } from './errors.js';
import { newerId } from './message-ids.js';
import { SeenIds, DEFAULT_SEEN_LIMIT } from './seen-ids.js';
import { DEFAULT_SEND_QUEUE, SendQueue, type PendingSend, type SendQueueOptions } from './send-queue.js';
import { WS_OPEN, type CloseEventLike, type MessageEventLike, type WebSocketConstructor, type WebSocketLike } from './web-socket.js';

export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'closed';

/** What ends a room for good, as an answer to "why was the handshake refused?". */
export interface Refusal {
  advice: 'stop' | 'login';
  reason: EndReason;
}

export interface RoomSocketOptions {
  roomId: string;
  /**
   * Where `/v1/rooms/{roomId}/ws` is appended: `ws://127.0.0.1:8003` for an edge, `wss://host/ws`
   * through web-gateway. A function is asked before every attempt (to move to another edge).
   */
  url: string | (() => string);
  /** Omit in a page on the gateway's origin: the session cookie travels by itself. */
  token?: string;
  /** 'protocol' (default; what browsers can do): `parley.token.<token>`; 'header': `Authorization: Bearer` (Node, `ws`). */
  tokenVia?: 'protocol' | 'header';
  /** Default: the global WebSocket (browsers). Node 20 passes the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  /**
   * Resume from this id on the first connect too (a client that kept the room's messages across a
   * restart): the first history then holds what came after it, and up to 2 s before it (the
   * overlap docs/realtime.md explains), which the caller drops against what it kept.
   */
  resumeFrom?: string;
  /** The caller's user id: its own message seen in the room settles a pending send before the ack. */
  selfId?: string;
  /**
   * Asked when a handshake was refused (the socket closed before opening: a browser hides the
   * status), to tell a lasting refusal from a passing one. Without it every refusal is retried.
   * `refusalFromRest` asks room-svc.
   */
  explainRefusal?: () => Promise<Refusal | undefined>;
  backoff?: Partial<BackoffOptions>;
  /** Wait after close 4429 (default 15 s). */
  ratePauseMs?: number;
  sends?: Partial<SendQueueOptions>;
  /** A `ping` frame this often while live; a socket silent for twice as long is given up. 0 = off. */
  heartbeatMs?: number;
  seenLimit?: number;
  maxBodyBytes?: number;
  newClientMsgId?: () => string;
  random?: () => number;
}

export const DEFAULT_HEARTBEAT_MS = 25_000;

export interface StateEvent {
  state: ConnectionState;
  /** Reconnects since the socket was last live. */
  attempt: number;
  /** With `reconnecting`: when the next attempt starts. */
  inMs?: number;
  /** The close code that caused a reconnect. */
  code?: number;
}

export interface HistoryEvent {
  /** Messages not delivered before, oldest to newest. */
  messages: Message[];
  /** Older messages exist before the first one of the frame. */
  hasMore: boolean;
  /** A reconnect's history (after `last_id`), not the first one. */
  resumed: boolean;
  /**
   * On a resume, more was missed than the edge replays: `messages` is the newest page whole, and
   * the hole before it is to be read over REST (`latest` with `beforeId`). The view restarts here.
   */
  gap: boolean;
}

export interface RoomSocketEvents {
  state: StateEvent;
  history: HistoryEvent;
  history_unavailable: { code: string };
  message: Message;
  /** An own send stored: `id` is its message id (from the ack, or from its echo in the room). */
  ack: { clientMsgId: string; id: string; body: string };
  /** An own send changed state; `failed` ones have left the queue. */
  pending: PendingSend;
  /** A rate limit began: sends wait (and go one at a time) until one is stored. */
  rate_limited: { retryInMs: number };
  /** Every error frame of the edge, those about a pending send included. */
  error: ErrorFrame;
  room_deleted: { roomId: string };
  /** The WebSocket could not even be created (a malformed URL); retried on the backoff. */
  connect_error: { url: string; problem: string };
  /** A frame that is not JSON or not of contracts' shape; it is skipped. */
  invalid_frame: { text: string; problem: string };
  /** The socket will not reconnect. `login`: the session ended. */
  closed: { advice: 'stop' | 'login'; reason: EndReason; code: number };
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * One room's WebSocket to the edge, kept open by itself as docs/realtime.md asks of a client:
 * every (re)connect carries `last_id` = the newest id received from the room's stream (never an
 * ack's id: an ack can run ahead of messages not yet delivered), repeats are dropped by id, lost
 * connections come back on a jittered backoff, close codes are obeyed (contracts' CLOSE_ADVICE),
 * and own sends stay queued until acknowledged, going out again after a reconnect with the same
 * client_msg_id so the edge stores each once. The SDK never logs: it emits events.
 */
export class RoomSocket extends Emitter<RoomSocketEvents> {
  readonly roomId: string;
  private readonly Ws: WebSocketConstructor;
  private readonly queue: SendQueue;
  private readonly seen: SeenIds;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private ws: WebSocketLike | undefined;
  private current: ConnectionState = 'idle';
  private newest: string | undefined;
  private attempt = 0;
  /** Whether a socket was ever lost: later attempts are reconnects, whatever the resume point. */
  private lostOnce = false;
  private reconnectTimer: Timer | undefined;
  private pumpTimer: Timer | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private lastInbound = 0;

  constructor(private readonly opts: RoomSocketOptions) {
    super();
    this.roomId = opts.roomId;
    const Ws = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ws) throw new TypeError('no WebSocket implementation: pass options.WebSocket (in Node 20, the ws package)');
    this.Ws = Ws;
    this.queue = new SendQueue({ ...DEFAULT_SEND_QUEUE, ...opts.sends });
    this.seen = new SeenIds(opts.seenLimit ?? DEFAULT_SEEN_LIMIT);
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.random = opts.random ?? Math.random;
    this.newest = opts.resumeFrom;
  }

  get state(): ConnectionState {
    return this.current;
  }

  private isClosed(): boolean {
    return this.current === 'closed';
  }

  /** The resume point: the newest id received from the room (history or live). */
  get lastId(): string | undefined {
    return this.newest;
  }

  /** Own sends not yet acknowledged, in the order written. */
  get pending(): PendingSend[] {
    return this.queue.list();
  }

  start(): void {
    if (this.current !== 'idle') return;
    this.connect();
  }

  /** Leaves the room's live view for good; pending sends are reported `failed`. */
  stop(): void {
    if (this.current === 'closed') return;
    this.finish({ advice: 'stop', reason: 'closed' }, 1000);
  }

  /**
   * Queues a message; it goes out while live, in order, and again after every reconnect until
   * acknowledged. Returns its client_msg_id. Throws SendError for a body the edge would refuse.
   */
  send(body: string): string {
    if (this.current === 'closed') throw new SendError('closed', 'the room socket is closed');
    const problem = checkBody(body, this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (problem) throw new SendError(problem, problem === 'body_empty' ? 'the message has no visible text' : `the message is over ${this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES} bytes`);
    const id = (this.opts.newClientMsgId ?? newClientMsgId)();
    this.emit('pending', { ...this.queue.add(id, body) });
    this.pump();
    return id;
  }

  private connect(): void {
    const { token } = this.opts;
    const via = this.opts.tokenVia ?? 'protocol';
    const base = typeof this.opts.url === 'function' ? this.opts.url() : this.opts.url;
    const url = `${base.replace(/\/+$/, '')}/v1/rooms/${encodeURIComponent(this.roomId)}/ws${this.newest ? `?last_id=${this.newest}` : ''}`;
    const protocols = token && via === 'protocol' ? [WS_SUBPROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`] : [WS_SUBPROTOCOL];
    this.setState(this.lostOnce ? 'reconnecting' : 'connecting');
    let ws: WebSocketLike;
    try {
      ws = token && via === 'header' ? new this.Ws(url, protocols, { headers: { authorization: `Bearer ${token}` } }) : new this.Ws(url, protocols);
    } catch (err) {
      // A URL the platform refuses: reported, then retried like a refused handshake (a url()
      // function may give a better one next time).
      this.emit('connect_error', { url, problem: (err as Error).message });
      return void this.lost(1006, false);
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev: MessageEventLike) => {
      if (this.ws === ws) this.onText(ev.data);
    };
    // The close event follows every error, and carries what a client acts on.
    ws.onerror = () => undefined;
    ws.onclose = (ev: CloseEventLike) => {
      if (this.ws === ws) void this.lost(ev.code, opened);
    };
  }

  private async lost(code: number, opened: boolean): Promise<void> {
    this.detach();
    this.lostOnce = true;
    for (const item of this.queue.unsent()) this.emit('pending', { ...item });
    if (this.current === 'closed') return;
    if (!opened && this.opts.explainRefusal) {
      const refusal = await this.opts.explainRefusal().catch(() => undefined);
      // stop() may have run while room-svc was asked.
      if (this.isClosed()) return;
      if (refusal) return this.finish(refusal, code);
    }
    const decision = decideAfterClose(code, this.attempt, { backoff: this.backoff, ratePauseMs: this.opts.ratePauseMs ?? DEFAULT_RATE_PAUSE_MS }, this.random);
    if (decision.action === 'end') return this.finish(decision, code);
    this.attempt++;
    this.setState('reconnecting', { inMs: decision.delayMs, code });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.current !== 'closed') this.connect();
    }, decision.delayMs);
  }

  /** Forgets the current socket (its late events are ignored) and closes it. */
  private detach(): void {
    const ws = this.ws;
    this.ws = undefined;
    clearInterval(this.heartbeat);
    clearTimeout(this.pumpTimer);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => undefined;
    if (ws.readyState <= WS_OPEN) ws.close(1000);
  }

  private finish(end: { advice: 'stop' | 'login'; reason: EndReason }, code: number): void {
    clearTimeout(this.reconnectTimer);
    this.detach();
    this.setState('closed');
    for (const item of this.queue.failAll(end.reason)) this.emit('pending', { ...item });
    this.emit('closed', { advice: end.advice, reason: end.reason, code });
  }

  private setState(state: ConnectionState, extra: { inMs?: number; code?: number } = {}): void {
    this.current = state;
    this.emit('state', { state, attempt: this.attempt, ...extra });
  }

  private onText(data: unknown): void {
    this.lastInbound = Date.now();
    if (typeof data !== 'string') return this.emit('invalid_frame', { text: '', problem: 'binary frame' });
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return this.emit('invalid_frame', { text: data.slice(0, 200), problem: 'not JSON' });
    }
    const parsed = serverFrameSchema.safeParse(json);
    if (!parsed.success) return this.emit('invalid_frame', { text: data.slice(0, 200), problem: parsed.error.issues[0]?.message ?? 'invalid' });
    this.onFrame(parsed.data);
  }

  private onFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'history':
        return this.onHistory(f);
      case 'history_unavailable':
        this.becameLive();
        this.emit('history_unavailable', { code: f.code });
        return this.pump();
      case 'message':
        if (!this.seen.add(f.message.id)) return;
        this.newest = newerId(this.newest, f.message.id);
        this.emit('message', f.message);
        return this.echo(f.message);
      case 'ack':
        return this.settled(f.client_msg_id, f.id);
      case 'error':
        this.emit('error', f);
        return this.refused(f);
      case 'room_deleted':
        return this.emit('room_deleted', { roomId: f.room_id });
      case 'pong':
        return;
    }
  }

  private onHistory(f: HistoryFrame): void {
    const resumed = this.newest !== undefined;
    const gap = resumed && f.has_more;
    if (gap) this.seen.clear();
    const fresh = f.messages.filter((m) => this.seen.add(m.id));
    for (const m of f.messages) this.newest = newerId(this.newest, m.id);
    this.becameLive();
    this.emit('history', { messages: fresh, hasMore: f.has_more, resumed, gap });
    for (const m of fresh) this.echo(m);
    this.pump();
  }

  private becameLive(): void {
    this.attempt = 0;
    this.setState('live');
    const every = this.opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    if (every <= 0) return;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(every), every);
  }

  /** A socket that answered nothing (not even a pong) for two beats is half open: give it up. */
  private beat(every: number): void {
    if (Date.now() - this.lastInbound > 2 * every) return void this.lost(1006, true);
    this.write({ type: 'ping' });
  }

  /** Own message seen in the room: stored, whether or not its ack arrives. */
  private echo(m: Message): void {
    if (this.opts.selfId !== undefined && m.sender_id === this.opts.selfId && this.queue.has(m.client_msg_id)) this.settled(m.client_msg_id, m.id);
  }

  private settled(clientMsgId: string, id: string): void {
    const item = this.queue.settle(clientMsgId);
    if (!item) return;
    this.emit('ack', { clientMsgId, id, body: item.body });
    this.pump();
  }

  private refused(f: ErrorFrame): void {
    if (!f.client_msg_id) return;
    const r = this.queue.refuse(f.client_msg_id, f.code, f.retry_after_ms, Date.now());
    if (!r) return;
    this.emit('pending', { ...r.item });
    if (r.limitStarted) this.emit('rate_limited', { retryInMs: this.queue.wakeIn(Date.now()) ?? 0 });
    this.pump();
  }

  /** Puts waiting sends on the wire while live; wakes itself when a pause ends. */
  private pump(): void {
    clearTimeout(this.pumpTimer);
    if (this.current !== 'live') return;
    const now = Date.now();
    for (const item of this.queue.take(now)) {
      this.write({ type: 'send', client_msg_id: item.clientMsgId, body: item.body });
      this.emit('pending', { ...item });
    }
    const wait = this.queue.wakeIn(now);
    if (wait !== undefined) this.pumpTimer = setTimeout(() => this.pump(), wait);
  }

  private write(frame: object): void {
    if (this.ws?.readyState === WS_OPEN) this.ws.send(JSON.stringify(frame));
  }
}

/** Why the edge would refuse this body (docs/realtime.md), or undefined. */
export function checkBody(body: string, maxBytes = DEFAULT_MAX_BODY_BYTES): 'body_empty' | 'body_too_large' | undefined {
  if (isBlankText(body)) return 'body_empty';
  if (utf8ByteLength(body) > maxBytes) return 'body_too_large';
  return undefined;
}

/** 'c' and 24 hex digits from the platform's CSPRNG (browsers and Node 20 alike). */
export function newClientMsgId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return `c${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
