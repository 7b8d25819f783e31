/* global fetch, URLSearchParams */
/**
 * REST through the gateway. The session travels in the HttpOnly `parley_session` cookie that
 * user-svc sets on login, so no script on the page can read the token.
 */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function call(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'cannot reach the server');
  }
  if (res.status === 204) return undefined;
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiError(res.status, data?.error?.code ?? `HTTP_${res.status}`, data?.error?.message ?? res.statusText, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return data;
}

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
const room = (id) => encodeURIComponent(id);

export const api = {
  register: (username, password, displayName) => call('POST', '/api/users/v1/users', { username, password, ...(displayName ? { display_name: displayName } : {}) }),
  login: (username, password) => call('POST', '/api/users/v1/sessions', { username, password }),
  logout: () => call('DELETE', '/api/users/v1/sessions/current'),
  me: () => call('GET', '/api/users/v1/me'),
  myRooms: () => call('GET', '/api/rooms/v1/rooms?scope=mine&limit=100'),
  publicRooms: () => call('GET', '/api/rooms/v1/rooms?scope=public&limit=100'),
  getRoom: (id) => call('GET', `/api/rooms/v1/rooms/${room(id)}`),
  createRoom: (name, visibility) => call('POST', '/api/rooms/v1/rooms', { name, visibility }),
  joinRoom: (id) => call('POST', `/api/rooms/v1/rooms/${room(id)}/join`),
  deleteRoom: (id) => call('DELETE', `/api/rooms/v1/rooms/${room(id)}`),
  /** Oldest to newest: the page just before `beforeId` (or the newest page), from what the stream has stored. */
  older: (id, beforeId) => call('GET', `/api/query/v1/rooms/${room(id)}/messages/latest?${q({ limit: 50, before_id: beforeId })}`),
  search: (id, text, cursor) => call('GET', `/api/query/v1/rooms/${room(id)}/search?${q({ q: text, limit: 20, cursor })}`),
};

/** One sentence a person can act on. */
export function describeError(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong.';
  if (err.status === 0) return 'Cannot reach the server. Check your connection and try again.';
  if (err.status === 429) return `Too many attempts. Try again in ${err.retryAfter ?? 'a few'} seconds.`;
  if (err.status === 503 || err.status === 504) return 'The server is restarting or busy. Try again in a moment.';
  if (err.status >= 500) return 'The server failed to answer. Try again later.';
  return err.message;
}
