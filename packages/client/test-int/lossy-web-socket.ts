import WebSocket from 'ws';
import type { WebSocketConstructor, WebSocketLike } from '../src/index.js';

/**
 * `ws` with a fault injected: the ack of `dropAckOf` never reaches the client, and its
 * connection drops right there (as a network failure would, 1006); `cut()` drops it at any time.
 */
export function lossyWebSocket() {
  const state: { dropAckOf: string | undefined; droppedAckId: string | undefined; current: WebSocket | undefined } = { dropAckOf: undefined, droppedAckId: undefined, current: undefined };
  class Lossy implements WebSocketLike {
    private readonly ws: WebSocket;
    onopen: ((ev: never) => void) | null = null;
    onmessage: ((ev: never) => void) | null = null;
    onclose: ((ev: never) => void) | null = null;
    onerror: ((ev: never) => void) | null = null;
    constructor(url: string, protocols: string[], options?: { headers: Record<string, string> }) {
      this.ws = new WebSocket(url, protocols, options);
      state.current = this.ws;
      this.ws.onopen = (e) => (this.onopen as ((ev: unknown) => void) | null)?.(e);
      this.ws.onerror = (e) => (this.onerror as ((ev: unknown) => void) | null)?.(e);
      this.ws.onclose = (e) => (this.onclose as ((ev: unknown) => void) | null)?.(e);
      this.ws.onmessage = (e) => {
        const f = JSON.parse(String(e.data)) as { type: string; client_msg_id?: string; id?: string };
        if (f.type === 'ack' && state.dropAckOf !== undefined && f.client_msg_id === state.dropAckOf && state.droppedAckId === undefined) {
          state.droppedAckId = f.id;
          this.ws.terminate();
          return;
        }
        (this.onmessage as ((ev: unknown) => void) | null)?.(e);
      };
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  }
  /** Cuts the newest connection as a network failure would (the client sees 1006). */
  const cut = () => state.current?.terminate();
  return Object.assign(state, { Ctor: Lossy as WebSocketConstructor, cut });
}
