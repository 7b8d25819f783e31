import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ParleyError, type ErrorCode } from '@parley/errors';
import { clientIp, PROXY_SECRET_HEADER, type TrustedProxies } from '@parley/access';

export interface Route {
  /** Path prefix as the browser sees it, e.g. /api/rooms; removed before forwarding. */
  prefix: string;
  upstream: URL;
}

/** The route whose prefix owns `url` (exactly, or followed by / or ?) and the upstream path. */
export function matchRoute(routes: readonly Route[], url: string): { route: Route; path: string } | undefined {
  for (const route of routes) {
    if (!url.startsWith(route.prefix)) continue;
    const rest = url.slice(route.prefix.length);
    if (rest === '' || rest.startsWith('/') || rest.startsWith('?')) return { route, path: rest.startsWith('/') ? rest : `/${rest}` };
  }
  return undefined;
}

// RFC 9110 §7.6.1: these describe one hop and must not be forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

// Written by the gateway alone: whatever a client sent under these names is dropped.
const GATEWAY_WRITES = new Set(['host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', PROXY_SECRET_HEADER]);

/**
 * How the gateway speaks for its clients to the services behind it. The gateway is where the
 * public network ends: it names the client in X-Forwarded-For (one address, as it determined it)
 * and proves that the request came through it with the proxy secret, so user-svc and the edge
 * can believe that address (USER_/REALTIME_TRUSTED_PROXIES and _PROXY_SECRET, docs/security.md).
 */
export interface Forwarding {
  /** Proxies in front of the gateway (a load balancer) whose X-Forwarded-For it believes; none by default. */
  trustedProxies: TrustedProxies;
  /** Sent in PROXY_SECRET_HEADER on everything forwarded; '' sends no header (the services then trust no X-Forwarded-For from us). */
  proxySecret: string;
}

/**
 * The headers the gateway adds. X-Forwarded-For is not the client's list with our peer appended:
 * a client would then choose the left part, and behind a proxy that shares its address with
 * clients (one host) the services could not tell where our entry ends. It is the one address
 * `clientIp` finds under our own trust list: the peer, unless the peer is a trusted proxy.
 */
export function forwardingHeaders(headers: http.IncomingHttpHeaders, remote: string | undefined, f: Forwarding): Record<string, string> {
  const out: Record<string, string> = { 'x-forwarded-host': headers.host ?? '', 'x-forwarded-proto': 'http' };
  const client = remote === undefined ? '' : clientIp(remote, headers['x-forwarded-for'], f.trustedProxies);
  if (client !== '') out['x-forwarded-for'] = client;
  if (f.proxySecret !== '') out[PROXY_SECRET_HEADER] = f.proxySecret;
  return out;
}

export function forwardHeaders(headers: http.IncomingHttpHeaders, remote: string | undefined, upstream: URL, f: Forwarding): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const named = new Set(String(headers['connection'] ?? '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k) && !GATEWAY_WRITES.has(k)) out[k] = v;
  Object.assign(out, forwardingHeaders(headers, remote, f));
  out.host = upstream.host;
  return out;
}

export function sendError(res: http.ServerResponse, code: ErrorCode, message: string, retryAfterSeconds?: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const err = new ParleyError(code, message);
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  res.writeHead(err.httpStatus, headers).end(JSON.stringify(err.toJSON()));
}

/**
 * Streams one request to its upstream and the answer back. An upstream that is down is a 503
 * the page can retry (with Retry-After), one that is too slow a 504; neither is a 500.
 */
export function proxyHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: { upstream: URL; path: string },
  forwarding: Forwarding,
  agent: http.Agent,
  timeoutMs: number,
  onFailure: (err: Error) => void,
): void {
  const { upstream, path } = target;
  const up = http.request({
    agent,
    host: upstream.hostname,
    port: upstream.port || 80,
    method: req.method,
    path,
    headers: forwardHeaders(req.headers, req.socket.remoteAddress, upstream, forwarding),
    timeout: timeoutMs,
  });
  up.on('response', (ures) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    res.writeHead(ures.statusCode ?? 502, headers);
    ures.pipe(res);
    ures.on('error', () => res.destroy());
  });
  up.on('timeout', () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
  up.on('error', (err: NodeJS.ErrnoException) => {
    onFailure(err);
    if (err.code === 'ETIMEDOUT') sendError(res, 'TIMEOUT', 'the service took too long to answer');
    else sendError(res, 'DEPENDENCY_UNAVAILABLE', 'the service is unavailable (restarting?); retry shortly', 1);
  });
  req.on('aborted', () => up.destroy());
  req.pipe(up);
}

/** The upgrade request replayed to the upstream: the client's headers but the ones the gateway writes. */
export function upgradeRequestHead(req: Pick<http.IncomingMessage, 'method' | 'headers' | 'rawHeaders' | 'socket'>, path: string, upstream: URL, forwarding: Forwarding): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (GATEWAY_WRITES.has(raw[i]!.toLowerCase())) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push(`Host: ${upstream.host}`);
  for (const [k, v] of Object.entries(forwardingHeaders(req.headers, req.socket.remoteAddress, forwarding))) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A refusal written straight onto the socket of an upgrade request. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, code: ErrorCode, message: string): void {
  const body = JSON.stringify(new ParleyError(code, message).toJSON());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/**
 * Tunnels a WebSocket upgrade: the request is replayed to the upstream as raw HTTP/1.1 and the
 * two sockets are piped both ways, so the upstream's handshake answer (101 or a refusal with
 * its JSON body) and every frame reach the browser untouched. Either side closing closes both.
 */
export function tunnelUpgrade(
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: { upstream: URL; path: string },
  forwarding: Forwarding,
  onOpen: (close: () => void) => () => void,
  onFailure: (err: Error) => void,
): void {
  const { upstream, path } = target;
  const conn = net.connect({ host: upstream.hostname, port: Number(upstream.port || 80) });
  let connected = false;
  let forget = () => undefined as void;
  const closeBoth = () => {
    conn.destroy();
    socket.destroy();
  };
  conn.setNoDelay(true);
  conn.once('connect', () => {
    connected = true;
    forget = onOpen(closeBoth);
    conn.write(upgradeRequestHead(req, path, upstream, forwarding));
    if (head.length > 0) conn.write(head);
    socket.pipe(conn).pipe(socket);
  });
  conn.on('error', (err) => {
    onFailure(err);
    if (!connected) refuseUpgrade(socket, 503, 'Service Unavailable', 'DEPENDENCY_UNAVAILABLE', 'the realtime service is unavailable (restarting?); reconnect shortly');
    else closeBoth();
  });
  conn.on('close', () => {
    forget();
    if (connected) socket.destroy();
  });
  socket.on('error', closeBoth);
  socket.on('close', () => conn.destroy());
}
