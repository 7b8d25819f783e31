import { CLOSE_ADVICE, CloseCodes } from '@parley/contracts';
import { backoffDelay, type BackoffOptions } from './backoff.js';

/** Why a room socket ended for good. */
export type EndReason =
  /** 4404, or the room answered 404 when asked why a handshake was refused. */
  | 'deleted'
  /** 4403: no longer a member. */
  | 'removed'
  /** 4400: too many rejected frames; reconnecting would only repeat them. */
  | 'protocol'
  /** 4401: the session was revoked or expired; log in again. */
  | 'session_ended'
  /** 1000 from the edge, or the application called stop(). */
  | 'closed';

/** Wait after 4429 (too many rate-limited sends) before reconnecting. */
export const DEFAULT_RATE_PAUSE_MS = 15_000;

export type CloseDecision =
  | { action: 'reconnect'; delayMs: number }
  | { action: 'end'; advice: 'stop' | 'login'; reason: EndReason };

const END_REASON: Record<number, EndReason> = {
  [CloseCodes.NORMAL]: 'closed',
  [CloseCodes.PROTOCOL_ABUSE]: 'protocol',
  [CloseCodes.SESSION_ENDED]: 'session_ended',
  [CloseCodes.MEMBERSHIP_REVOKED]: 'removed',
  [CloseCodes.ROOM_DELETED]: 'deleted',
};

/**
 * What to do after the edge (or the network) closed a socket, from contracts' CLOSE_ADVICE.
 * A code the table does not name (1006 no close frame, 1001 going away, 1011, a proxy's own)
 * is a lost connection: resume, as for 1012 and 4008. `attempt` counts reconnects since the
 * socket was last live.
 */
export function decideAfterClose(code: number, attempt: number, opts: { backoff: BackoffOptions; ratePauseMs: number }, random: () => number = Math.random): CloseDecision {
  const advice = CLOSE_ADVICE[code] ?? 'resume';
  switch (advice) {
    case 'resume':
      return { action: 'reconnect', delayMs: backoffDelay(attempt, opts.backoff, random) };
    case 'pause_then_resume':
      return { action: 'reconnect', delayMs: Math.max(opts.ratePauseMs, backoffDelay(attempt, opts.backoff, random)) };
    case 'login':
      return { action: 'end', advice: 'login', reason: 'session_ended' };
    case 'stop':
      return { action: 'end', advice: 'stop', reason: END_REASON[code] ?? 'closed' };
  }
}
