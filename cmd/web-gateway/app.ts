import type { ServiceDefinition } from '@parley/service';
import { gatewayConfigSpec } from './src/config.js';
import { WebGateway } from './src/gateway.js';
import type { Route } from './src/proxy.js';

/**
 * The REST prefixes. `/ws` carries only WebSocket upgrades (a plain GET there is a static path),
 * so the edge's own REST (presence) has a prefix of its own.
 */
export function restRoutes(config: { userSvcUrl: URL; roomSvcUrl: URL; querySvcUrl: URL; realtimeUrl: URL }): Route[] {
  return [
    { prefix: '/api/users', upstream: config.userSvcUrl },
    { prefix: '/api/rooms', upstream: config.roomSvcUrl },
    { prefix: '/api/query', upstream: config.querySvcUrl },
    { prefix: '/api/realtime', upstream: config.realtimeUrl },
  ];
}

/**
 * One origin for the browser: the static page, the REST services under /api/* (the edge's under
 * /api/realtime) and the WebSocket edge under /ws/*, so cookies, CSP and WebSockets need no CORS.
 */
export const webGatewayService: ServiceDefinition<typeof gatewayConfigSpec> = {
  name: 'web-gateway',
  spec: gatewayConfigSpec,
  build({ config, log, runner, metrics }) {
    runner.add(
      new WebGateway({
        host: config.host,
        port: config.port,
        webRoot: config.webRoot,
        routes: restRoutes(config),
        websocket: { prefix: '/ws', upstream: config.realtimeUrl },
        forwarding: { trustedProxies: config.trustedProxies, proxySecret: config.proxySecret },
        upstreamTimeoutMs: config.upstreamTimeoutMs,
        log: log.child({ component: 'gateway' }),
        metrics,
      }),
    );
  },
};
