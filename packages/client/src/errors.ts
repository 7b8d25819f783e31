/**
 * Codes the SDK gives to failures that never reached a service's answer. Every other code is
 * the service's own `error.code` (docs/*.md list them: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
 * RATE_LIMITED, VALIDATION_FAILED, CONFLICT, DEPENDENCY_UNAVAILABLE, …).
 */
export const CLIENT_ERROR_CODES = {
  /** fetch itself failed: no route, refused connection, aborted. `status` is 0. */
  NETWORK: 'NETWORK',
  /** The service answered, but not with JSON of the documented shape. */
  INVALID_ANSWER: 'INVALID_ANSWER',
  /** An error status without the `{error:{code,message}}` body (a proxy's page, say). */
  HTTP_ERROR: 'HTTP_ERROR',
  /** Refused before any request: an argument no service would accept (a message id that is not one). `status` is 0. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

/** Statuses after which the same request may succeed unchanged. */
const RETRYABLE_STATUS = new Set([0, 429, 502, 503, 504]);

/** The one error every REST call throws. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** HTTP status, or 0 when no answer arrived. */
    readonly status: number,
    /** The service's stable `error.code`, or one of CLIENT_ERROR_CODES. */
    readonly code: string,
    message: string,
    readonly extra: { retryAfterMs?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }

  /** When the service said how long to wait (Retry-After, or `details.retryAfterSeconds`). */
  get retryAfterMs(): number | undefined {
    return this.extra.retryAfterMs;
  }

  get details(): Record<string, unknown> | undefined {
    return this.extra.details;
  }

  /** Whether repeating the same request later can succeed. */
  get canRetry(): boolean {
    return this.code !== CLIENT_ERROR_CODES.INVALID_ARGUMENT && RETRYABLE_STATUS.has(this.status);
  }
}

/** Why RoomSocket refused a command before it reached the wire. */
export type SendRefusal = 'body_empty' | 'body_too_large' | 'invalid_message_id' | 'invalid_emoji' | 'closed';

/**
 * Thrown by RoomSocket.send (and the rejection of edit, delete and react) for what the edge
 * would refuse anyway; the same codes as the edge's error frames where they overlap.
 */
export class SendError extends Error {
  override readonly name = 'SendError';

  constructor(
    readonly code: SendRefusal,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Why a command the edge received did not take effect: the edge's `error` code (`not_author`,
 * `message_deleted`, `message_not_found`, …; never a retryable one, which the SDK retries by
 * itself), or the EndReason of a room socket that ended before the ack (`closed`, `deleted`, …).
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly code: string,
    message: string,
    readonly clientMsgId: string,
  ) {
    super(message);
  }
}
