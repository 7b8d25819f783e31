import type { ParleyError } from '@parley/errors';
import type { Envelope } from '@parley/envelope';

/**
 * A store the command workers write envelopes into. Writes must be idempotent by message id:
 * every record can arrive more than once (redelivery after a crash or rebalance).
 *
 * `write` returns one entry per envelope: undefined when stored, or the error. A retryable
 * error (`canRetry`) means "try again later"; any other means this record can never be
 * stored and goes to the dead-letter topic. Throwing means the whole call failed (store
 * away) and is retried when the thrown error is retryable.
 */
export interface MessageSink {
  readonly name: string;
  write(envelopes: Envelope[], signal: AbortSignal): Promise<Array<ParleyError | undefined>>;
}
