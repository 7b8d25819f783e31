import { createHash } from 'node:crypto';
import { ParleyError, toParleyError } from '@parley/errors';
import { canonicalUuid, WS_SUBPROTOCOL } from '@parley/contracts';
import { parseId } from '@parley/envelope';
import { extractToken } from '@parley/access';
import type { Caller, Gatekeeper } from './gatekeeper.js';
import type { RateLimiter } from './rate-limit.js';

/** What the upgrade request carried, read synchronously (uWS invalidates `req` after return). */
export interface UpgradeInfo {
  roomId: string;
  query: string;
  authorization: string;
  cookie: string;
  protocol: string;
  ip: string;
}

export interface Admitted {
  roomId: string;
  caller: Caller;
  token: string;
  /** sha-256 (hex) of the token: how session.revoked events name a session. */
  tokenHash: string;
  lastId: bigint | undefined;
  /** The subprotocol to answer with; never the token entry. */
  protocol: string;
}


/**
 * Everything checked before a socket is upgraded, cheapest first: the path and query, the
 * token's presence, the session (user-svc), the join rate, the membership (room-svc).
 * Every refusal is a ParleyError whose httpStatus is the answer (400/401/403/404/429/503/504).
 */
export async function admit(info: UpgradeInfo, deps: { gatekeeper: Gatekeeper; limiter: RateLimiter }): Promise<Admitted> {
  // One spelling per room from here on: subjects, keys, stores and room events all use it.
  const roomId = canonicalUuid(info.roomId);
  if (roomId === undefined) throw new ParleyError('VALIDATION_FAILED', 'room id must be a UUID (8-4-4-4-12 hex digits)');
  const params = new URLSearchParams(info.query);
  const rawLast = params.get('last_id');
  const lastId = rawLast === null || rawLast === '' ? undefined : parseId(rawLast);
  if (rawLast && lastId === undefined) throw new ParleyError('VALIDATION_FAILED', 'last_id must be a message id (positive int64, decimal)');
  const found = extractToken({ authorization: info.authorization || undefined, cookie: info.cookie || undefined, protocol: info.protocol, query: params });
  if (!found) throw new ParleyError('UNAUTHENTICATED', 'a session token is required (Authorization, cookie, Sec-WebSocket-Protocol or access_token)');
  const caller = await deps.gatekeeper.authenticate(found.token);
  const rate = await deps.limiter.hit('join', caller.id, info.ip);
  if (!rate.allowed) {
    throw new ParleyError('RATE_LIMITED', 'too many joins; retry later', { details: { retryAfterSeconds: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)) } });
  }
  await deps.gatekeeper.authorize(roomId, caller.id);
  const tokenHash = createHash('sha256').update(found.token).digest('hex');
  return { roomId, caller, token: found.token, tokenHash, lastId, protocol: chooseProtocol(info.protocol) };
}

function chooseProtocol(header: string): string {
  const offered = header.split(',').map((p) => p.trim());
  // The answer never echoes the token entry, only the protocol itself.
  return offered.includes(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : '';
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The refusal as status line, headers and the JSON body every Parley service answers with. */
export function refusal(err: unknown): { status: string; headers: Record<string, string>; body: string } {
  const pe = toParleyError(err);
  const shown = pe.code === 'INTERNAL' ? new ParleyError('INTERNAL', 'internal error') : pe;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const retry = pe.details?.['retryAfterSeconds'];
  if (typeof retry === 'number') headers['retry-after'] = String(retry);
  return { status: `${pe.httpStatus} ${STATUS_TEXT[pe.httpStatus] ?? 'Error'}`, headers, body: JSON.stringify({ error: { code: shown.code, message: shown.message } }) };
}

