import type { CommandFrame, ErrorFrameCode } from '@parley/contracts';

/**
 * queued    written, waiting for the socket (or for a slot on the wire)
 * sending   on the wire, waiting for its ack
 * retrying  refused for now (rate limit, edge busy): goes out again with the same client_msg_id
 * failed    refused for good (too large, invalid); no longer in the queue
 */
export type PendingState = 'queued' | 'sending' | 'retrying' | 'failed';

/** An own message on its way, as the `pending` event and `RoomSocket.pending` show it. */
export interface PendingSend {
  readonly clientMsgId: string;
  readonly body: string;
  /** The message it answers (a thread reply). */
  readonly replyTo?: string;
  state: PendingState;
  /** The edge's error code for `retrying` and `failed`. */
  reason?: string;
  /** How many times it was put on the wire: from the second on it is a resend. */
  attempts?: number;
}

/** One command of any kind (send, edit, delete, react) in the queue: the frame it goes out as. */
export interface QueuedCommand {
  readonly clientMsgId: string;
  readonly frame: CommandFrame;
  state: PendingState;
  /** The edge's error code for `retrying` and `failed`. */
  reason?: string;
  /** How many times it was put on the wire: from the second on it is a resend. */
  attempts?: number;
}

export interface SendQueueOptions {
  /** Unacknowledged sends on the wire; the edge refuses past REALTIME_MAX_IN_FLIGHT (32). */
  maxInFlight: number;
  /** First pause after a rate-limit refusal without `retry_after_ms`; doubles up to maxPauseMs. */
  firstPauseMs: number;
  maxPauseMs: number;
  /** Wait before resending what JetStream did not store (`unavailable`). */
  unavailableRetryMs: number;
}

export const DEFAULT_SEND_QUEUE: SendQueueOptions = { maxInFlight: 4, firstPauseMs: 2500, maxPauseMs: 10_000, unavailableRetryMs: 1000 };

/** Refusals after which the same send, with the same client_msg_id, can succeed later. */
export const RETRYABLE_SEND_CODES: ReadonlySet<string> = new Set<ErrorFrameCode>(['rate_limited', 'too_many_in_flight', 'unavailable']);
/** Refusals that count against the sender's limit: while one holds, one send at a time. */
const LIMIT_CODES: ReadonlySet<string> = new Set<ErrorFrameCode>(['rate_limited', 'too_many_in_flight']);

/**
 * Own commands (sends, edits, deletes, reactions) from the moment they are written until the edge
 * acknowledges them, in the order written: an edit written after a send goes out after it.
 * Invariants: an entry keeps its client_msg_id for life, so every resend (after a reconnect,
 * after a retryable refusal) is the same command to the edge, which logs it once (its
 * client_ids are durable) and acks it with the first copy's id; an entry leaves only on its ack
 * (or, for a send, the live echo of it), or when refused for good. While a rate limit holds, every send waits, not just the refused one (the
 * limit is per user) and at most one is on the wire, so waiting costs one strike per try rather
 * than one per message.
 */
export class SendQueue {
  private readonly items = new Map<string, QueuedCommand>();
  private limited = false;
  private pauseMs: number;
  private pausedUntil = 0;

  constructor(private readonly opts: SendQueueOptions = DEFAULT_SEND_QUEUE) {
    this.pauseMs = opts.firstPauseMs;
  }

  add(frame: CommandFrame): QueuedCommand {
    const item: QueuedCommand = { clientMsgId: frame.client_msg_id, frame, state: 'queued' };
    this.items.set(frame.client_msg_id, item);
    return item;
  }

  get(clientMsgId: string): QueuedCommand | undefined {
    return this.items.get(clientMsgId);
  }

  has(clientMsgId: string): boolean {
    return this.items.has(clientMsgId);
  }

  get size(): number {
    return this.items.size;
  }

  /** True while a rate limit holds. */
  get isLimited(): boolean {
    return this.limited;
  }

  list(): QueuedCommand[] {
    return [...this.items.values()];
  }

  /** What to put on the wire now, oldest first; each is marked `sending`. */
  take(now: number): QueuedCommand[] {
    if (now < this.pausedUntil) return [];
    const cap = this.limited ? 1 : this.opts.maxInFlight;
    let inFlight = 0;
    for (const item of this.items.values()) if (item.state === 'sending') inFlight++;
    const out: QueuedCommand[] = [];
    for (const item of this.items.values()) {
      if (inFlight >= cap) break;
      if (item.state !== 'queued' && item.state !== 'retrying') continue;
      item.state = 'sending';
      item.attempts = (item.attempts ?? 0) + 1;
      delete item.reason;
      inFlight++;
      out.push(item);
    }
    return out;
  }

  /** Milliseconds until take() may give more, while paused; undefined when not paused. */
  wakeIn(now: number): number | undefined {
    return now < this.pausedUntil ? this.pausedUntil - now : undefined;
  }

  /** The edge stored it (ack, or its own message seen in the room): it leaves, and a limit ends. */
  settle(clientMsgId: string): QueuedCommand | undefined {
    const item = this.items.get(clientMsgId);
    if (!item) return undefined;
    this.items.delete(clientMsgId);
    this.limited = false;
    this.pauseMs = this.opts.firstPauseMs;
    return item;
  }

  /**
   * The edge refused it. Retryable: `retrying`, and every send waits until the pause ends (the
   * edge's `retry_after_ms` when it gave one). Otherwise `failed`, and it leaves the queue.
   * Returns the entry and whether this refusal started a rate limit.
   */
  refuse(clientMsgId: string, code: string, retryAfterMs: number | undefined, now: number): { item: QueuedCommand; limitStarted: boolean } | undefined {
    const item = this.items.get(clientMsgId);
    if (!item) return undefined;
    item.reason = code;
    if (!RETRYABLE_SEND_CODES.has(code)) {
      item.state = 'failed';
      this.items.delete(clientMsgId);
      return { item, limitStarted: false };
    }
    item.state = 'retrying';
    const limit = LIMIT_CODES.has(code);
    const limitStarted = limit && !this.limited;
    let wait = this.opts.unavailableRetryMs;
    if (limit) {
      this.limited = true;
      if (retryAfterMs !== undefined && retryAfterMs > 0) wait = retryAfterMs;
      else {
        wait = this.pauseMs;
        this.pauseMs = Math.min(this.opts.maxPauseMs, this.pauseMs * 2);
      }
    }
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    return { item, limitStarted };
  }

  /** The socket was lost: what was on the wire waits for the next one. Returns the entries changed. */
  unsent(): QueuedCommand[] {
    const changed: QueuedCommand[] = [];
    for (const item of this.items.values()) {
      if (item.state !== 'sending') continue;
      item.state = 'queued';
      changed.push(item);
    }
    return changed;
  }

  /** Ends every entry as failed (the room ended); returns them. */
  failAll(reason: string): QueuedCommand[] {
    const all = [...this.items.values()];
    this.items.clear();
    for (const item of all) {
      item.state = 'failed';
      item.reason = reason;
    }
    return all;
  }
}

/** A queued send as the application sees it; undefined for the other commands. */
export function pendingSendOf(item: QueuedCommand): PendingSend | undefined {
  const f = item.frame;
  if (f.type !== 'send') return undefined;
  return { clientMsgId: item.clientMsgId, body: f.body, ...(f.reply_to ? { replyTo: f.reply_to } : {}), state: item.state, ...(item.reason !== undefined ? { reason: item.reason } : {}) };
}
