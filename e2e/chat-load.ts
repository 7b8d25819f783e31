/**
 * Steady chat load through the edges, by clients that behave as docs/realtime.md asks: on a
 * lost connection reconnect (to any edge) with the last id seen, and resend every unacknowledged
 * message with its original client_msg_id, so a retry never creates a second message.
 */
import WebSocket from 'ws';

const RECONNECT_DELAY_MS = 300;
const MAX_UNACKED = 16;

export interface LoadStats {
  /** client_msg_id → message id, for every acknowledged send. */
  acked: Map<string, string>;
  sent: number;
  received: number;
  reconnects: number;
  refusedJoins: number;
  /** Error frames by code. */
  errors: Map<string, number>;
  /** Sends skipped because a client already had MAX_UNACKED waiting. */
  skipped: number;
}

export function newStats(): LoadStats {
  return { acked: new Map(), sent: 0, received: 0, reconnects: 0, refusedJoins: 0, errors: new Map(), skipped: 0 };
}

export class LoadClient {
  private ws: WebSocket | undefined;
  private lastId: string | undefined;
  private seq = 0;
  private edge: number;
  private stopped = false;
  private readonly unacked = new Map<string, string>();

  constructor(
    private readonly edges: string[],
    private readonly token: string,
    private readonly roomId: string,
    readonly name: string,
    private readonly stats: LoadStats,
    firstEdge: number,
  ) {
    this.edge = firstEdge % edges.length;
  }

  get pending(): number {
    return this.unacked.size;
  }

  connect(): void {
    if (this.stopped) return;
    const q = this.lastId ? `?last_id=${this.lastId}` : '';
    const ws = new WebSocket(`${this.edges[this.edge]}/v1/rooms/${this.roomId}/ws${q}`, ['parley.v1'], { headers: { authorization: `Bearer ${this.token}` } });
    this.ws = ws;
    ws.on('open', () => {
      for (const [id, body] of this.unacked) this.write(id, body);
    });
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('unexpected-response', (_req, res) => {
      this.stats.refusedJoins++;
      res.resume();
      this.retry(ws);
    });
    ws.on('error', () => undefined); // the close (or unexpected-response) that follows retries
    ws.on('close', () => this.retry(ws));
  }

  /** Queues one message; false when too many are still unacknowledged. */
  send(): boolean {
    if (this.unacked.size >= MAX_UNACKED) {
      this.stats.skipped++;
      return false;
    }
    const id = `${this.name}-${this.seq++}`;
    const body = `drill ${this.name} message ${this.seq}`;
    this.unacked.set(id, body);
    this.stats.sent++;
    this.write(id, body);
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close(1000);
  }

  private write(id: string, body: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'send', client_msg_id: id, body }));
  }

  private resend(id: string): void {
    const body = this.unacked.get(id);
    if (body !== undefined) this.write(id, body);
  }

  private retry(ws: WebSocket): void {
    if (this.stopped || this.ws !== ws) return;
    this.ws = undefined;
    this.stats.reconnects++;
    // The next edge: the one this socket was on may be the one that went away.
    this.edge = (this.edge + 1) % this.edges.length;
    setTimeout(() => this.connect(), RECONNECT_DELAY_MS);
  }

  private onFrame(text: string): void {
    const f = JSON.parse(text) as { type: string; [k: string]: unknown };
    if (f.type === 'ack') {
      const cid = f['client_msg_id'] as string;
      if (this.unacked.delete(cid)) this.stats.acked.set(cid, f['id'] as string);
    } else if (f.type === 'message') {
      this.stats.received++;
      this.lastId = (f['message'] as { id: string }).id;
    } else if (f.type === 'history') {
      const msgs = f['messages'] as Array<{ id: string }>;
      if (msgs.length > 0) this.lastId = msgs[msgs.length - 1]!.id;
    } else if (f.type === 'error') {
      const code = String(f['code']);
      this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
      const cid = f['client_msg_id'] as string | undefined;
      // Not stored: the same client_msg_id is sent again shortly.
      if (code === 'unavailable' && cid) setTimeout(() => this.resend(cid), 500);
    }
  }
}
