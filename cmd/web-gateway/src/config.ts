import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { field, types } from '@parley/config';
import { proxySecretSchema, trustedProxiesSchema } from '@parley/access';

const httpBase = () => types.url(['http']).transform((s) => new URL(s));

/** The page as `make web` builds it from web/ (Vite); operators may point at a copy elsewhere. */
const BUNDLED_WEB_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

export const gatewayConfigSpec = {
  host: field({ env: 'WEB_HOST', schema: types.string(255), default: '127.0.0.1', doc: 'listen address of the page, REST and WebSocket' }),
  port: field({ env: 'WEB_PORT', schema: types.port(), default: '8080', doc: 'listen port (0 = any free port)' }),
  webRoot: field({ env: 'WEB_ROOT', schema: z.string().min(1), default: BUNDLED_WEB_ROOT, doc: 'folder of the built page (index.html, assets/)' }),
  userSvcUrl: field({ env: 'WEB_USER_SVC_URL', schema: httpBase(), default: 'http://127.0.0.1:8001', doc: 'user-svc REST, served under /api/users' }),
  roomSvcUrl: field({ env: 'WEB_ROOM_SVC_URL', schema: httpBase(), default: 'http://127.0.0.1:8002', doc: 'room-svc REST, served under /api/rooms' }),
  querySvcUrl: field({ env: 'WEB_QUERY_SVC_URL', schema: httpBase(), default: 'http://127.0.0.1:8004', doc: 'chat-query-svc REST, served under /api/query' }),
  realtimeUrl: field({ env: 'WEB_REALTIME_URL', schema: httpBase(), default: 'http://127.0.0.1:8003', doc: 'chat-realtime-svc, the edge: its WebSocket served under /ws, its REST (presence) under /api/realtime' }),
  proxySecret: field({
    env: 'WEB_PROXY_SECRET',
    schema: proxySecretSchema,
    default: '',
    secret: true,
    doc: 'sent to the services in X-Parley-Proxy-Secret on all it forwards; equal to USER_PROXY_SECRET and REALTIME_PROXY_SECRET (empty = none: they count every browser under the gateway\'s address)',
  }),
  trustedProxies: field({
    env: 'WEB_TRUSTED_PROXIES',
    schema: trustedProxiesSchema,
    default: '',
    doc: 'IPs or CIDR ranges of proxies in front of the gateway whose X-Forwarded-For it believes; empty = the gateway is the edge (the client is its TCP peer)',
  }),
  upstreamTimeoutMs: field({ env: 'WEB_UPSTREAM_TIMEOUT_MS', schema: types.int(100, 120_000), default: '30000', doc: 'time an upstream may take to answer a REST request (504 beyond)' }),
};
