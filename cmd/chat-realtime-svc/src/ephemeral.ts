import type { NatsConnection } from 'nats';
import type { EphemeralEvent } from '@parley/contracts';
import { roomEphemeralSubject } from '@parley/nats';
import { TYPING_THROTTLE_MS } from '@parley/contracts';

const encoder = new TextEncoder();

/**
 * What this edge tells the other edges of a room that is never stored: a member typing, a
 * member's read mark that moved. Core NATS on `<prefix>.eph.room.<roomId>` (every edge with
 * members of the room follows it, this one included: RoomHub), fire and forget.
 */
export class EphemeralBus {
  constructor(
    private readonly nc: () => NatsConnection,
    private readonly prefix: string,
  ) {}

  publish(roomId: string, event: EphemeralEvent): void {
    try {
      this.nc().publish(roomEphemeralSubject(roomId, this.prefix), encoder.encode(JSON.stringify(event)));
    } catch {
      // NATS away or draining: typing and receipts are late news, never worth failing a socket for.
    }
  }
}

/** One member's typing on one socket: at most one event per TYPING_THROTTLE_MS, the rest dropped. */
export class TypingThrottle {
  private last = Number.NEGATIVE_INFINITY;

  /** True when this typing frame is to be passed on. */
  allow(now: number = Date.now()): boolean {
    if (now - this.last < TYPING_THROTTLE_MS) return false;
    this.last = now;
    return true;
  }
}
