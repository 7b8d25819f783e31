import { WS_TOKEN_PROTOCOL_PREFIX } from '@parley/contracts';
/**
 * Where a session token may travel. Browsers cannot set headers on a WebSocket, so the edge
 * also accepts the cookie and a `Sec-WebSocket-Protocol` entry; REST uses only the first two.
 * A query parameter is the last resort (it ends up in access logs) and only read when given.
 */
export const SESSION_COOKIE = 'parley_session';
export const TOKEN_PROTOCOL_PREFIX = WS_TOKEN_PROTOCOL_PREFIX;
export const TOKEN_QUERY_PARAM = 'access_token';

export type TokenSource = 'authorization' | 'cookie' | 'protocol' | 'query';

export interface TokenCarriers {
  authorization?: string | string[] | undefined;
  cookie?: string | string[] | undefined;
  /** The raw `Sec-WebSocket-Protocol` header: a comma separated list. */
  protocol?: string | string[] | undefined;
  /** The raw query string (without `?`) or parsed parameters. */
  query?: string | URLSearchParams | undefined;
}

/** The first token found, in the order above; undefined when none is present. */
export function extractToken(c: TokenCarriers): { token: string; source: TokenSource } | undefined {
  const auth = first(c.authorization);
  if (auth) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m?.[1]) return { token: m[1], source: 'authorization' };
  }
  const fromCookie = cookieValue(first(c.cookie), SESSION_COOKIE);
  if (fromCookie) return { token: fromCookie, source: 'cookie' };
  const protocols = (Array.isArray(c.protocol) ? c.protocol.join(',') : (c.protocol ?? '')).split(',');
  for (const p of protocols) {
    const entry = p.trim();
    if (entry.startsWith(TOKEN_PROTOCOL_PREFIX) && entry.length > TOKEN_PROTOCOL_PREFIX.length) {
      return { token: entry.slice(TOKEN_PROTOCOL_PREFIX.length), source: 'protocol' };
    }
  }
  if (c.query !== undefined) {
    const params = typeof c.query === 'string' ? new URLSearchParams(c.query) : c.query;
    const q = params.get(TOKEN_QUERY_PARAM);
    if (q) return { token: q, source: 'query' };
  }
  return undefined;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The Set-Cookie value that carries a session to a browser. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
