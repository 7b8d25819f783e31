/**
 * One closed list of error codes for the whole system. Workers decide between retry and
 * dead-letter from `canRetry`, REST maps `httpStatus`, never from message text.
 */
export const ErrorCodes = {
  CONFIG_INVALID: { httpStatus: 500, canRetry: false },
  VALIDATION_FAILED: { httpStatus: 400, canRetry: false },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, canRetry: false },
  UNAUTHENTICATED: { httpStatus: 401, canRetry: false },
  FORBIDDEN: { httpStatus: 403, canRetry: false },
  NOT_FOUND: { httpStatus: 404, canRetry: false },
  METHOD_NOT_ALLOWED: { httpStatus: 405, canRetry: false },
  UNSUPPORTED_MEDIA_TYPE: { httpStatus: 415, canRetry: false },
  /** A plain HTTP request on a path that only takes WebSocket upgrades. */
  UPGRADE_REQUIRED: { httpStatus: 426, canRetry: false },
  CONFLICT: { httpStatus: 409, canRetry: false },
  RATE_LIMITED: { httpStatus: 429, canRetry: true },
  DEPENDENCY_UNAVAILABLE: { httpStatus: 503, canRetry: true },
  TIMEOUT: { httpStatus: 504, canRetry: true },
  SHUTTING_DOWN: { httpStatus: 503, canRetry: true },
  POISON_MESSAGE: { httpStatus: 422, canRetry: false },
  INTERNAL: { httpStatus: 500, canRetry: false },
} as const satisfies Record<string, { httpStatus: number; canRetry: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ParleyErrorOptions {
  cause?: unknown;
  /** Overrides the code's default when the caller knows better (a 5xx from ES is retryable, a 4xx is not). */
  canRetry?: boolean;
  details?: Record<string, unknown>;
}

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly canRetry: boolean;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.canRetry = options.canRetry ?? ErrorCodes[code].canRetry;
    this.httpStatus = ErrorCodes[code].httpStatus;
    this.details = options.details;
  }

  /** The one JSON error shape every REST service answers with. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof ParleyError;
}

const UNREACHABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// PostgreSQL SQLSTATE class 08 (connection exception) and 57P01..57P03 (shutting down, starting up).
const PG_UNAVAILABLE = /^(08[0-9A-Z]{3}|57P0[1-3])$/;
// node-postgres reports a dropped or unobtainable connection by message only.
const PG_UNAVAILABLE_TEXT = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/**
 * True when `err` says a store or peer could not be reached, as opposed to refusing what we
 * asked: those are worth retrying and answer 503, never 500.
 */
export function isUnreachable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_NET_CODES.has(code) || PG_UNAVAILABLE.test(code))) return true;
  if (err instanceof AggregateError && err.errors.some(isUnreachable)) return true;
  return err instanceof Error && PG_UNAVAILABLE_TEXT.test(err.message);
}

/**
 * Wraps anything thrown into a ParleyError. A store that cannot be reached becomes a retryable
 * DEPENDENCY_UNAVAILABLE; other unknown errors are `fallback` (INTERNAL, not retryable):
 * retrying what we do not understand is how a poison message blocks a partition.
 */
export function toParleyError(err: unknown, fallback: ErrorCode = 'INTERNAL'): ParleyError {
  if (err instanceof ParleyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isUnreachable(err)) return new ParleyError('DEPENDENCY_UNAVAILABLE', `dependency unavailable: ${message}`, { cause: err });
  return new ParleyError(fallback, message, { cause: err });
}

export { invalidInput, parseInput } from './validation.js';
