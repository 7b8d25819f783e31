import { ApiError, RestClient, gatewayEndpoints } from '@parley/client';

/**
 * REST through the gateway. The session travels in the HttpOnly `parley_session` cookie that
 * user-svc sets on login, so no script on the page holds the token.
 */
export const rest = new RestClient({ endpoints: gatewayEndpoints(), auth: 'cookie' });

/** The gateway's WebSocket prefix on this origin. */
export function wsBase(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

/** One sentence a person can act on. */
export function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Something went wrong.';
  if (err.status === 0) return 'Cannot reach the server. Check your connection and try again.';
  if (err.status === 429) return `Too many attempts. Try again in ${err.retryAfterMs ? Math.ceil(err.retryAfterMs / 1000) : 'a few'} seconds.`;
  if (err.status === 503 || err.status === 504) return 'The server is restarting or busy. Try again in a moment.';
  if (err.status >= 500) return 'The server failed to answer. Try again later.';
  return err.message;
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof ApiError && err.status === status;
}
