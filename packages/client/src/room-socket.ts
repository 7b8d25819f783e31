import { parseMessageId, serverFrameSchema, TYPING_THROTTLE_MS, WS_SUBPROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type ErrorFrame, type HistoryFrame, type Message, type PresenceMember, type ServerFrame } from '@parley/contracts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { decideAfterClose, DEFAULT_RATE_PAUSE_MS, type EndReason } from './close-decision.js';
import { commandFrame, newClientMsgId } from './command-frames.js';
import { Emitter } from './emitter.js';
import { CommandError, SendError } from './errors.js';
import { compareIds, newerId } from './message-ids.js';
import { PresenceRoster } from './presence-roster.js';
import { DEFAULT_HEARTBEAT_MS, type ConnectionState, type RoomSocketEvents, type RoomSocketOptions } from './room-socket-types.js';
import { SeenIds, DEFAULT_SEEN_LIMIT } from './seen-ids.js';
import { DEFAULT_SEND_QUEUE, pendingSendOf, SendQueue, type PendingSend, type QueuedCommand } from './send-queue.js';
import { WS_OPEN, type CloseEventLike, type MessageEventLike, type WebSocketConstructor, type WebSocketLike } from './web-socket.js';

export * from './room-socket-types.js';

type Timer = ReturnType<typeof setTimeout>;
/** Rewrites of a refused read mark before it is left to the next markRead or socket. */
const READ_RETRIES = 5;
type Waiter = { resolve: (id: string) => void; reject: (err: Error) => void };

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
  /** Callers of edit/delete/react/whenSettled, by client_msg_id, until the ack or a final refusal. */
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly roster = new PresenceRoster();
  private lastTypingAt = Number.NEGATIVE_INFINITY;
  /** The newest mark asked for by markRead, and the one written on the current socket. */
  private readWanted: string | undefined;
  private readWritten: string | undefined;
  /** A written mark the edge has not answered (`unread`) yet, and its retries so far. */
  private readUnanswered = false;
  private readRetries = 0;
  private readTimer: Timer | undefined;

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

  /** Own sends not yet acknowledged, in the order written (edits, deletes and reactions are not listed). */
  get pending(): PendingSend[] {
    return this.queue.list().flatMap((item) => pendingSendOf(item) ?? []);
  }

  /** Own commands of every kind not yet acknowledged. */
  get unsettled(): number {
    return this.queue.size;
  }

  /** Members online in the room (on any edge), longest online first; empty until the first `presence`. */
  get online(): PresenceMember[] {
    return this.roster.list();
  }

  isOnline(userId: string): boolean {
    return this.roster.has(userId);
  }

  /** The newest read mark asked for (markRead), written or about to be. */
  get readUpTo(): string | undefined {
    return this.readWanted;
  }

  /**
   * Tells the room the caller is typing. Call it on every keystroke: one frame goes out per
   * `typingThrottleMs` (TYPING_THROTTLE_MS, what the edge lets through) and only while live; a
   * typing frame is never queued, since a late one would be a lie. Returns whether one was written.
   */
  typing(): boolean {
    const now = Date.now();
    if (this.current !== 'live' || now - this.lastTypingAt < (this.opts.typingThrottleMs ?? TYPING_THROTTLE_MS)) return false;
    this.lastTypingAt = now;
    this.write({ type: 'typing' });
    return true;
  }

  /**
   * Marks the room read up to a message. Marks only move forward, here as on the server: an id
   * older than one asked for before is ignored (returns false). Written at once while live,
   * otherwise as soon as the socket is live again, and once more on every new socket (the edge
   * keeps the larger mark, so a repeat costs nothing but a frame). The edge answers with `unread`.
   */
  markRead(messageId: string): boolean {
    if (parseMessageId(messageId) === undefined) throw new SendError('invalid_message_id', `message id ${JSON.stringify(messageId.slice(0, 30))} is not a message id (a positive decimal number)`);
    if (this.current === 'closed') throw new SendError('closed', 'the room socket is closed');
    if (this.readWanted !== undefined && compareIds(messageId, this.readWanted) <= 0) return false;
    this.readWanted = messageId;
    this.readRetries = 0;
    this.writeRead();
    return true;
  }

  private writeRead(): void {
    if (this.current !== 'live' || this.readWanted === undefined || this.readWanted === this.readWritten) return;
    this.readWritten = this.readWanted;
    this.readUnanswered = true;
    this.write({ type: 'read', message_id: this.readWanted });
  }

  /**
   * The edge refuses a read of a message its store does not hold yet (`message_not_found`: a live
   * message reaches members before the CQL worker wrote it) or cannot store it now
   * (`unavailable`), with an error frame that names no client_msg_id. Such an error while a mark
   * waits for its `unread` answer is taken as that mark's, and the mark is written again, 0.5 s
   * doubling, at most READ_RETRIES times (a newer mark starts over).
   */
  private readRefused(f: ErrorFrame): boolean {
    if (f.client_msg_id !== undefined || !this.readUnanswered || (f.code !== 'message_not_found' && f.code !== 'unavailable')) return false;
    this.readUnanswered = false;
    if (this.readRetries >= READ_RETRIES) return true;
    const delay = 500 * 2 ** this.readRetries++;
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      this.readWritten = undefined;
      this.writeRead();
    }, delay);
    return true;
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
   * Queues a message (`replyTo`: the message of this room it answers); it goes out while live, in
   * order, and again after every reconnect until acknowledged. Returns its client_msg_id (its
   * outcome: the `ack` and `pending` events, or whenSettled). Throws SendError for a body or
   * reply_to the edge would refuse.
   */
  send(body: string, opts: { replyTo?: string | undefined } = {}): string {
    return this.enqueue({ type: 'send', body, replyTo: opts.replyTo });
  }

  /**
   * Replaces the body of an own message. Like every command it is queued in write order and
   * resent with its client_msg_id until acknowledged; resolves with the change event's id once
   * the log stored it (the new state follows as `message_updated`), rejects with CommandError
   * for a refusal (`not_author`, `message_deleted`, …) and with SendError for what the edge
   * would refuse anyway.
   */
  edit(messageId: string, body: string): Promise<string> {
    return this.command({ type: 'edit', messageId, body });
  }

  /** Deletes an own message, or any if the caller owns the room (see edit for the outcome). */
  delete(messageId: string): Promise<string> {
    return this.command({ type: 'delete', messageId });
  }

  /** Adds (`on`) or takes back a reaction; once per member and emoji however often sent. */
  react(messageId: string, emoji: string, on: boolean): Promise<string> {
    return this.command({ type: 'react', messageId, emoji, on });
  }

  /** The ack's id of an own command still queued (a send's message id); rejects as edit does. */
  whenSettled(clientMsgId: string): Promise<string> {
    if (!this.queue.has(clientMsgId)) return Promise.reject(new CommandError('unknown', 'no such command waits for its ack', clientMsgId));
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(clientMsgId) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(clientMsgId, list);
    });
  }

  private command(cmd: Parameters<typeof commandFrame>[0]): Promise<string> {
    try {
      return this.whenSettled(this.enqueue(cmd));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private enqueue(cmd: Parameters<typeof commandFrame>[0]): string {
    if (this.current === 'closed') throw new SendError('closed', 'the room socket is closed');
    const item = this.queue.add(commandFrame(cmd, (this.opts.newClientMsgId ?? newClientMsgId)(), this.opts.maxBodyBytes));
    this.report(item);
    this.pump();
    return item.clientMsgId;
  }

  /** A send changed state: the `pending` event (the other commands have none). */
  private report(item: QueuedCommand): void {
    const view = pendingSendOf(item);
    if (view) this.emit('pending', view);
  }

  private answer(clientMsgId: string, outcome: { id: string } | { error: Error }): void {
    const list = this.waiters.get(clientMsgId);
    if (!list) return;
    this.waiters.delete(clientMsgId);
    for (const w of list) {
      if ('id' in outcome) w.resolve(outcome.id);
      else w.reject(outcome.error);
    }
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
    for (const item of this.queue.unsent()) this.report(item);
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
    this.readWritten = undefined;
    this.readUnanswered = false;
    clearTimeout(this.readTimer);
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
    for (const item of this.queue.failAll(end.reason)) {
      this.report(item);
      this.answer(item.clientMsgId, { error: new CommandError(end.reason, `the room socket ended (${end.reason}) before the edge acknowledged it`, item.clientMsgId) });
    }
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
      case 'message': {
        this.newest = newerId(this.newest, f.message.id);
        const offer = this.seen.offer(f.message);
        if (offer === 'stale') return;
        if (offer === 'newer') return this.emit('message_updated', f.message);
        this.emit('message', f.message);
        return this.echo(f.message);
      }
      case 'message_updated':
        if (this.seen.update(f.message)) this.emit('message_updated', f.message);
        return;
      case 'ack':
        return this.settled(f.client_msg_id, f.id);
      case 'error':
        this.emit('error', f);
        if (this.readRefused(f)) return;
        return this.refused(f);
      case 'room_deleted':
        return this.emit('room_deleted', { roomId: f.room_id });
      case 'pong':
        return;
      case 'presence':
        this.roster.reset(f.online);
        return this.emit('presence', { online: this.roster.list() });
      case 'presence_diff':
        this.roster.apply(f.joined, f.left);
        return this.emit('presence_diff', { joined: f.joined, left: f.left, online: this.roster.list() });
      case 'typing':
        if (f.user_id !== this.opts.selfId) this.emit('typing', { userId: f.user_id, name: f.name });
        return;
      case 'receipts':
        return this.emit('receipts', { items: f.items });
      case 'unread':
        this.readUnanswered = false;
        return this.emit('unread', { roomId: f.room_id, messages: f.messages, mentions: f.mentions });
    }
  }

  private onHistory(f: HistoryFrame): void {
    const resumed = this.newest !== undefined;
    const gap = resumed && f.has_more;
    if (gap) this.seen.clear();
    const fresh: Message[] = [];
    // The overlap of a resume, in a newer state than delivered (changed while away).
    const changed: Message[] = [];
    for (const m of f.messages) {
      this.newest = newerId(this.newest, m.id);
      const offer = this.seen.offer(m);
      if (offer === 'new') fresh.push(m);
      else if (offer === 'newer') changed.push(m);
    }
    this.becameLive();
    this.emit('history', { messages: fresh, hasMore: f.has_more, resumed, gap });
    for (const m of changed) this.emit('message_updated', m);
    for (const m of fresh) this.echo(m);
    this.pump();
  }

  private becameLive(): void {
    this.attempt = 0;
    this.setState('live');
    this.writeRead();
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
    if (this.opts.selfId !== undefined && m.sender_id === this.opts.selfId && this.queue.get(m.client_msg_id)?.frame.type === 'send') this.settled(m.client_msg_id, m.id);
  }

  private settled(clientMsgId: string, id: string): void {
    const item = this.queue.settle(clientMsgId);
    if (!item) return;
    if (item.frame.type === 'send') this.emit('ack', { clientMsgId, id, body: item.frame.body });
    this.answer(clientMsgId, { id });
    this.pump();
  }

  private refused(f: ErrorFrame): void {
    if (!f.client_msg_id) return;
    const r = this.queue.refuse(f.client_msg_id, f.code, f.retry_after_ms, Date.now());
    if (!r) return;
    this.report(r.item);
    if (r.item.state === 'failed') this.answer(f.client_msg_id, { error: new CommandError(f.code, f.message, f.client_msg_id) });
    if (r.limitStarted) this.emit('rate_limited', { retryInMs: this.queue.wakeIn(Date.now()) ?? 0 });
    this.pump();
  }

  /** Puts waiting sends on the wire while live; wakes itself when a pause ends. */
  private pump(): void {
    clearTimeout(this.pumpTimer);
    if (this.current !== 'live') return;
    const now = Date.now();
    for (const item of this.queue.take(now)) {
      // A resend of a send says so: the edge then asks the store, so an old retry keeps its first id.
      this.write(item.frame.type === 'send' && (item.attempts ?? 1) > 1 ? { ...item.frame, retry: true } : item.frame);
      this.report(item);
    }
    const wait = this.queue.wakeIn(now);
    if (wait !== undefined) this.pumpTimer = setTimeout(() => this.pump(), wait);
  }

  private write(frame: object): void {
    if (this.ws?.readyState === WS_OPEN) this.ws.send(JSON.stringify(frame));
  }
}
