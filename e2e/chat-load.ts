/**
 * Steady chat load through the edges, by clients that behave as docs/realtime.md asks, because
 * they are @parley/client's RoomSocket: on a lost connection they reconnect (to the next edge)
 * with the last id seen, and resend every unacknowledged message with its original
 * client_msg_id, so a retry never creates a second message.
 */
import WebSocket from 'ws';
import { RoomSocket } from '@parley/client';

const RECONNECT_BACKOFF = { initialMs: 300, maxMs: 2000, jitter: 0.25 };
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
  /** Sockets that ended for good, by reason and close code: nothing in a drill should end one. */
  ended: Map<string, number>;
  /** Told of every acknowledged send (a drill's model of the messages listens here). */
  onAck?: (ack: { id: string; clientMsgId: string; body: string; roomId: string; client: string }) => void;
}

export function newStats(): LoadStats {
  return { acked: new Map(), sent: 0, received: 0, reconnects: 0, refusedJoins: 0, errors: new Map(), skipped: 0, ended: new Map() };
}

export class LoadClient {
  private readonly socket: RoomSocket;
  private seq = 0;
  private edge: number;
  private stopping = false;

  constructor(
    private readonly edges: string[],
    token: string,
    roomId: string,
    readonly name: string,
    private readonly stats: LoadStats,
    firstEdge: number,
  ) {
    this.edge = firstEdge % edges.length;
    this.socket = new RoomSocket({
      roomId,
      url: () => this.edges[this.edge]!,
      token,
      tokenVia: 'header',
      WebSocket,
      backoff: RECONNECT_BACKOFF,
      // Up to MAX_UNACKED on the wire at once (the edge allows 32), as a busy client would.
      sends: { maxInFlight: MAX_UNACKED, unavailableRetryMs: 500 },
      newClientMsgId: () => `${this.name}-${this.seq}`,
      // Counts the refusal and retries: a join refused during a restart is a passing one.
      explainRefusal: async () => void this.stats.refusedJoins++,
    });
    this.socket.on('state', (e) => {
      if (e.state !== 'reconnecting' || e.inMs === undefined) return;
      stats.reconnects++;
      // The next edge: the one this socket was on may be the one that went away.
      this.edge = (this.edge + 1) % this.edges.length;
    });
    this.socket.on('ack', (a) => {
      stats.acked.set(a.clientMsgId, a.id);
      stats.onAck?.({ id: a.id, clientMsgId: a.clientMsgId, body: a.body, roomId, client: name });
    });
    this.socket.on('message', () => void stats.received++);
    this.socket.on('error', (f) => void stats.errors.set(f.code, (stats.errors.get(f.code) ?? 0) + 1));
    this.socket.on('closed', (e) => {
      if (this.stopping) return;
      const key = `${e.reason} (${e.code})`;
      stats.ended.set(key, (stats.ended.get(key) ?? 0) + 1);
    });
  }

  get pending(): number {
    return this.socket.pending.length;
  }

  connect(): void {
    this.socket.start();
  }

  /** Queues one message; false when too many are still unacknowledged. */
  send(): boolean {
    if (this.socket.state === 'closed') {
      this.stats.skipped++;
      return false;
    }
    if (this.pending >= MAX_UNACKED) {
      this.stats.skipped++;
      return false;
    }
    this.socket.send(`drill ${this.name} message ${this.seq + 1}`);
    this.seq++;
    this.stats.sent++;
    return true;
  }

  stop(): void {
    this.stopping = true;
    this.socket.stop();
  }
}
