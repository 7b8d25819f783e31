import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Message } from './api.js';

/** What a room session reports to the screen. */
export interface RoomView {
  /** `resumed`: after a reconnect, `messages` are only the ones missed meanwhile. */
  history(messages: Message[], hasMore: boolean, resumed: boolean): void;
  message(m: Message): void;
  notice(text: string): void;
}

/** Close codes after which the edge expects a resume (docs/realtime.md); the rest are final. */
const RESUMABLE = new Set([1001, 1006, 1011, 1012, 4008]);
const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** Ids remembered for dropping repeats: a resume repeats at most a few seconds of messages. */
const SEEN_LIMIT = 2000;

/**
 * One WebSocket to the edge for one room. It remembers the newest id it showed so a lost
 * connection resumes with `last_id`, and the ids it showed so the overlap a resume sends
 * again (see docs/realtime.md) is not shown twice.
 */
export class RoomSession {
  private ws: WebSocket | undefined;
  private lastId: string | undefined;
  private readonly seen = new Set<string>();
  private closedByUs = false;
  private attempt = 0;
  private readonly unacked = new Map<string, string>();

  constructor(
    private readonly wsBase: string,
    private readonly token: string,
    readonly roomId: string,
    private readonly view: RoomView,
  ) {}

  /** Resolves once the first connection is open; rejects with the edge's refusal. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => this.connect(resolve, reject));
  }

  send(body: string): void {
    const id = `cli-${randomUUID()}`;
    this.unacked.set(id, body);
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'send', client_msg_id: id, body }));
    else this.view.notice('not connected; the message is sent after reconnecting');
  }

  private resend(id: string): void {
    const body = this.unacked.get(id);
    if (body !== undefined && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'send', client_msg_id: id, body }));
  }

  close(): void {
    this.closedByUs = true;
    this.ws?.close(1000);
  }

  private connect(onOpen?: () => void, onRefused?: (err: Error) => void): void {
    const q = this.lastId ? `?last_id=${this.lastId}` : '';
    const ws = new WebSocket(`${this.wsBase}/v1/rooms/${encodeURIComponent(this.roomId)}/ws${q}`, ['parley.v1'], { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += String(c)));
      res.on('end', () => {
        const msg = `refused (HTTP ${res.statusCode}) ${text}`;
        if (onRefused) onRefused(new Error(msg));
        else this.retry(msg);
      });
    });
    ws.on('open', () => {
      this.attempt = 0;
      // Retrying with the same client_msg_id never creates a second message.
      for (const [id, body] of this.unacked) ws.send(JSON.stringify({ type: 'send', client_msg_id: id, body }));
      onOpen?.();
      onOpen = undefined;
      onRefused = undefined;
    });
    ws.on('message', (data) => this.onFrame(String(data)));
    // The close event follows every error; it reports, with the error's text.
    let failure = '';
    ws.on('error', (err) => (failure = err.message));
    ws.on('close', (code, reason) => {
      if (this.closedByUs || this.ws !== ws) return;
      const why = `${code}${String(reason) ? ` ${String(reason)}` : ''}${failure ? `, ${failure}` : ''}`;
      if (onRefused) return onRefused(new Error(`could not connect (${why})`));
      if (RESUMABLE.has(code)) this.retry(`connection lost (${why})`);
      else this.view.notice(`left the room (close ${why})`);
    });
  }

  private retry(why: string): void {
    if (this.closedByUs) return;
    const delay = BACKOFF_MS[Math.min(this.attempt++, BACKOFF_MS.length - 1)]!;
    this.view.notice(`${why}; reconnecting in ${delay} ms`);
    setTimeout(() => this.closedByUs || this.connect(), delay);
  }

  /** False for an id already shown; otherwise records it and advances `lastId`. */
  private remember(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value!);
    if (this.lastId === undefined || BigInt(id) > BigInt(this.lastId)) this.lastId = id;
    return true;
  }

  private onFrame(text: string): void {
    const f = JSON.parse(text) as { type: string; [k: string]: unknown };
    switch (f.type) {
      case 'history': {
        const msgs = (f['messages'] as Message[]).filter((m) => this.remember(m.id));
        this.view.history(msgs, f['has_more'] === true, this.lastId !== undefined);
        break;
      }
      case 'message': {
        const m = f['message'] as Message;
        if (!this.remember(m.id)) return;
        this.view.message(m);
        break;
      }
      case 'ack':
        this.unacked.delete(f['client_msg_id'] as string);
        break;
      case 'history_unavailable':
        this.view.notice(`history unavailable (${String(f['code'])}); live messages follow`);
        break;
      case 'error': {
        const id = f['client_msg_id'] as string | undefined;
        if (f['code'] === 'unavailable' && id && this.unacked.has(id)) {
          setTimeout(() => this.resend(id), 1000);
          break;
        }
        if (id) this.unacked.delete(id);
        this.view.notice(`error ${String(f['code'])}: ${String(f['message'])}`);
        break;
      }
      case 'room_deleted':
        this.view.notice('the room was deleted');
        break;
    }
  }
}
