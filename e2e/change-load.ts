/**
 * Edits, deletes and reactions beside a drill's sends (chat-load.ts), with the drill's own model
 * of what every message should then look like (message-model.ts).
 *
 * Each member has one change socket of its own (raw frames: `edit`, `delete`, `react`, from
 * @parley/contracts), which behaves as docs/realtime.md asks: on a lost connection it moves to
 * the next edge and sends every unacknowledged command again with its client_msg_id; an
 * `unavailable` (or a rate or in-flight limit) is retried with the same id after a pause. Only
 * acknowledged commands enter the model, with the event id of their ack.
 *
 * So that the model knows the order without asking the system: at most one command per (member,
 * message) is in flight, every (member, emoji) of a message is toggled by that member's one
 * socket, and a delete is sent only for a message with nothing in flight, after which the drill
 * changes it no more.
 */
import WebSocket from 'ws';
import { WS_SUBPROTOCOL, serverFrameSchema, type ErrorFrameCode } from '@parley/contracts';
import { MessageModel } from './message-model.js';

export const EMOJI = ['👍', '🎉', '❤️', '😂', '🔥'] as const;
const RETRY_CODES: ReadonlySet<ErrorFrameCode> = new Set(['unavailable', 'rate_limited', 'too_many_in_flight']);
const RETRY_MS = 500;
const RECONNECT_MS = { first: 300, max: 2000 };
const PING_MS = 20_000;
/** Commands one member has in flight at most (the edge allows 32 per socket). */
const MAX_IN_FLIGHT = 8;
/** Most targets are among a room's newest messages (some still between the stream and the store). */
const RECENT = 50;

export type Command =
  | { type: 'edit'; message_id: string; body: string }
  | { type: 'delete'; message_id: string }
  | { type: 'react'; message_id: string; emoji: string; on: boolean };

export interface ChangeStats {
  issued: Record<Command['type'], number>;
  acked: Record<Command['type'], number>;
  /** Refused for good, by code: the command took no effect (nothing enters the model). */
  refused: Map<string, number>;
  /** Commands sent more than once (reconnect or a retryable error). */
  resent: number;
  reconnects: number;
}

interface Pending {
  clientMsgId: string;
  command: Command;
  attempts: number;
  onDone: (outcome: { ok: true; id: string } | { ok: false; code: string; attempts: number }) => void;
}

/** One member's socket for changes: keeps itself connected and its commands until answered. */
export class ChangeSocket {
  private ws: WebSocket | undefined;
  private live = false;
  private stopped = false;
  private edge: number;
  private seq = 0;
  private backoff = RECONNECT_MS.first;
  private readonly pending = new Map<string, Pending>();
  private ping: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly edges: string[],
    private readonly token: string,
    private readonly roomId: string,
    readonly name: string,
    private readonly stats: ChangeStats,
    firstEdge: number,
  ) {
    this.edge = firstEdge % edges.length;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(`${this.edges[this.edge]}/v1/rooms/${this.roomId}/ws`, [WS_SUBPROTOCOL], { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.live = false;
      clearInterval(this.ping);
      if (this.stopped) return;
      this.stats.reconnects++;
      this.edge = (this.edge + 1) % this.edges.length;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, RECONNECT_MS.max);
    });
  }

  submit(command: Command, onDone: Pending['onDone']): void {
    const p: Pending = { clientMsgId: `${this.name}-x${this.seq++}`, command, attempts: 0, onDone };
    this.pending.set(p.clientMsgId, p);
    this.stats.issued[command.type]++;
    this.write(p);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.ping);
    this.ws?.close(1000);
  }

  private write(p: Pending): void {
    if (!this.live || this.ws?.readyState !== WebSocket.OPEN) return;
    if (p.attempts > 0) this.stats.resent++;
    p.attempts++;
    this.ws.send(JSON.stringify({ ...p.command, client_msg_id: p.clientMsgId }));
  }

  private onFrame(text: string): void {
    const parsed = serverFrameSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return;
    const f = parsed.data;
    if (f.type === 'history' || f.type === 'history_unavailable') {
      this.live = true;
      this.backoff = RECONNECT_MS.first;
      clearInterval(this.ping);
      this.ping = setInterval(() => this.ws?.send(JSON.stringify({ type: 'ping' })), PING_MS);
      for (const p of this.pending.values()) this.write(p);
      return;
    }
    if (f.type === 'ack') {
      const p = this.pending.get(f.client_msg_id);
      if (!p) return;
      this.pending.delete(f.client_msg_id);
      this.stats.acked[p.command.type]++;
      return p.onDone({ ok: true, id: f.id });
    }
    if (f.type !== 'error' || f.client_msg_id === undefined) return;
    const p = this.pending.get(f.client_msg_id);
    if (!p) return;
    if (RETRY_CODES.has(f.code)) {
      setTimeout(() => this.pending.has(p.clientMsgId) && this.write(p), f.retry_after_ms ?? RETRY_MS);
      return;
    }
    this.pending.delete(f.client_msg_id);
    this.stats.refused.set(f.code, (this.stats.refused.get(f.code) ?? 0) + 1);
    p.onDone({ ok: false, code: f.code, attempts: p.attempts });
  }
}

export interface ChangeMember {
  /** Stable key of the member in the model (reactions are per member). */
  name: string;
  token: string;
  roomId: string;
  /** The room this member created: it may delete others' messages there. */
  owns?: string;
}

interface Known {
  id: string;
  author: string;
}

/**
 * Chooses commands and keeps the model: `acked` is called for every acknowledged send, `tick`
 * issues one change, `pause` stops issuing (a drill compares the stores while nothing changes).
 */
export class ChangeLoad {
  readonly model = new MessageModel();
  readonly stats: ChangeStats = { issued: { edit: 0, delete: 0, react: 0 }, acked: { edit: 0, delete: 0, react: 0 }, refused: new Map(), resent: 0, reconnects: 0 };
  private readonly sockets = new Map<string, ChangeSocket>();
  private readonly members = new Map<string, ChangeMember>();
  /** Per room, the messages still open to changes, oldest first. */
  private readonly open = new Map<string, Known[]>();
  /** Message id → members with a command on it in flight. */
  private readonly busy = new Map<string, Set<string>>();
  /** `${message} ${member} ${emoji}` the member's acknowledged toggles left on. */
  private readonly held = new Set<string>();
  private paused = false;
  private edits = 0;

  constructor(
    edges: string[],
    members: ChangeMember[],
    private readonly random: () => number = Math.random,
  ) {
    members.forEach((m, i) => {
      this.members.set(m.name, m);
      this.sockets.set(m.name, new ChangeSocket(edges, m.token, m.roomId, m.name, this.stats, i));
    });
  }

  connect(): void {
    for (const s of this.sockets.values()) s.connect();
  }

  stop(): void {
    for (const s of this.sockets.values()) s.stop();
  }

  /** An acknowledged send of `author` (a member's name). */
  acked(id: string, roomId: string, author: string, body: string): void {
    if (this.model.has(id)) return;
    this.model.sent(id, roomId, body);
    const list = this.open.get(roomId) ?? [];
    list.push({ id, author });
    this.open.set(roomId, list);
  }

  get inFlight(): number {
    let n = 0;
    for (const s of this.sockets.values()) n += s.inFlight;
    return n;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Resolves once every command issued so far is answered; false if `timeoutMs` passed first. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  /** Issues one change (about half reactions, a third edits, the rest deletes), if one can go. */
  tick(): void {
    if (this.paused) return;
    const names = [...this.members.keys()];
    const member = this.members.get(names[Math.floor(this.random() * names.length)]!)!;
    const socket = this.sockets.get(member.name)!;
    if (socket.inFlight >= MAX_IN_FLIGHT) return;
    const r = this.random();
    if (r < 0.5) this.react(member, socket);
    else if (r < 0.85) this.edit(member, socket);
    else this.delete(member, socket);
  }

  private react(member: ChangeMember, socket: ChangeSocket): void {
    const target = this.pick(member.roomId, (k) => !this.isBusy(k.id, member.name));
    if (!target) return;
    const emoji = EMOJI[Math.floor(this.random() * EMOJI.length)]!;
    const on = !this.held.has(`${target.id} ${member.name} ${emoji}`);
    this.issue(socket, member, target.id, { type: 'react', message_id: target.id, emoji, on }, (eventId) => {
      this.model.reacted(target.id, eventId, member.name, emoji, on);
      if (on) this.held.add(`${target.id} ${member.name} ${emoji}`);
      else this.held.delete(`${target.id} ${member.name} ${emoji}`);
    });
  }

  private edit(member: ChangeMember, socket: ChangeSocket): void {
    const target = this.pick(member.roomId, (k) => k.author === member.name && !this.isBusy(k.id, member.name));
    if (!target) return;
    const body = `drill edit ${++this.edits} by ${member.name}`;
    this.issue(socket, member, target.id, { type: 'edit', message_id: target.id, body }, (eventId) => this.model.edited(target.id, eventId, body));
  }

  private delete(member: ChangeMember, socket: ChangeSocket): void {
    // The owner deletes others' messages now and then (the edge vouches with by_owner).
    const others = member.owns === member.roomId && this.random() < 0.3;
    const target = this.pick(member.roomId, (k) => (others ? k.author !== member.name : k.author === member.name) && !this.busy.has(k.id));
    if (!target) return;
    const list = this.open.get(member.roomId)!;
    list.splice(list.indexOf(target), 1);
    this.issue(socket, member, target.id, { type: 'delete', message_id: target.id }, (eventId) => this.model.deleted(target.id, eventId), () => list.push(target));
  }

  private issue(socket: ChangeSocket, member: ChangeMember, target: string, command: Command, onAck: (eventId: string) => void, onRefused?: () => void): void {
    const set = this.busy.get(target) ?? new Set();
    set.add(member.name);
    this.busy.set(target, set);
    socket.submit(command, (outcome) => {
      set.delete(member.name);
      if (set.size === 0) this.busy.delete(target);
      if (outcome.ok) return onAck(outcome.id);
      // Refused for good after it was sent again: the first attempt may have been logged.
      if (outcome.attempts > 1) this.model.uncertain(target);
      else onRefused?.();
    });
  }

  private isBusy(id: string, member: string): boolean {
    return this.busy.get(id)?.has(member) ?? false;
  }

  /** A target in the room: mostly among the newest, sometimes any. */
  private pick(roomId: string, ok: (k: Known) => boolean): Known | undefined {
    const list = this.open.get(roomId) ?? [];
    const from = this.random() < 0.8 ? Math.max(0, list.length - RECENT) : 0;
    const candidates = list.slice(from).filter(ok);
    return candidates[Math.floor(this.random() * candidates.length)];
  }
}
