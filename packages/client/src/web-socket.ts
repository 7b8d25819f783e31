/**
 * The part of a WebSocket the SDK uses, met by the browser's WebSocket and by the `ws`
 * package's (Node 20 has no global WebSocket). Handlers take `never`: assigning a handler that
 * reads `{ data }` or `{ code, reason }` then type-checks against either implementation's own
 * event classes, which differ in everything else.
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * `new (url, protocols, options)`: the browser ignores `options`; `ws` reads `options.headers`,
 * which is how a Node client sends `Authorization: Bearer`.
 */
export type WebSocketConstructor = new (url: string, protocols: string[], options?: { headers: Record<string, string> }) => WebSocketLike;

export const WS_OPEN = 1;

export interface MessageEventLike {
  data: unknown;
}

export interface CloseEventLike {
  code: number;
  reason: string;
}
