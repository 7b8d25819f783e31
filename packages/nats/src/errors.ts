/**
 * JetStream API errors told apart by their error codes (the server's `err_code`), never by their
 * text. The codes are the server's (nats-server/server/jetstream_errors_generated.go).
 */
export const JS_STREAM_NOT_FOUND = 10059;
export const JS_STREAM_NAME_IN_USE = 10058;
export const JS_CONSUMER_NOT_FOUND = 10014;
export const JS_NO_MESSAGE_FOUND = 10037;
export const JS_WRONG_LAST_SEQUENCE = 10071;

/** The JetStream API error code carried by `err`, if it is one. */
export function jsApiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: unknown } } | null)?.api_error;
  return typeof api?.err_code === 'number' ? api.err_code : undefined;
}
