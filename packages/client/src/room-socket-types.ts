import type { ErrorFrame, Message, PresenceMember } from '@parley/contracts';
import type { BackoffOptions } from './backoff.js';
import type { EndReason } from './close-decision.js';
import type { PendingSend, SendQueueOptions } from './send-queue.js';
import type { WebSocketConstructor } from './web-socket.js';

/** RoomSocket's options and events (room-socket.ts holds the socket itself). */
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
  /** At most one `typing` frame per this interval (default TYPING_THROTTLE_MS, the edge's own throttle). */
  typingThrottleMs?: number;
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
  /**
   * A message delivered before (or older than anything delivered) changed: `message` is its whole
   * current state, to replace what is shown. Repeats and copies older than one delivered before
   * are dropped; the application still keeps the newer of its own copies (isNewerCopy), since a
   * REST page may have brought a newer one.
   */
  message_updated: Message;
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
  /** Who is online in the room, after every (re)join: the whole set (RoomSocket.online). */
  presence: { online: PresenceMember[] };
  /** Members came online or went offline; `online` is the set after the change. */
  presence_diff: { joined: PresenceMember[]; left: PresenceMember[]; online: PresenceMember[] };
  /** Another member is typing (never the caller): show it for TYPING_SHOW_MS unless it repeats (TypingTracker). */
  typing: { userId: string; name: string };
  /** Members' read marks that moved, each the member's mark now (ReadMarks keeps them). */
  receipts: { items: Array<{ user_id: string; message_id: string }> };
  /** The caller's own unread counts in this room, after the join and after each read. */
  unread: { roomId: string; messages: number; mentions: number };
  /** The socket will not reconnect. `login`: the session ended. */
  closed: { advice: 'stop' | 'login'; reason: EndReason; code: number };
}
