import type { ServiceDefinition } from '@parley/service';
import { gatewayConfigSpec } from './src/config.js';
import { WebGateway } from './src/gateway.js';

/**
 * One origin for the browser: the static page, the three REST services under /api/* and the
 * WebSocket edge under /ws/*, so cookies, CSP and WebSockets need no CORS.
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
        routes: [
          { prefix: '/api/users', upstream: config.userSvcUrl },
          { prefix: '/api/rooms', upstream: config.roomSvcUrl },
          { prefix: '/api/query', upstream: config.querySvcUrl },
        ],
        websocket: { prefix: '/ws', upstream: config.realtimeUrl },
        forwarding: { trustedProxies: config.trustedProxies, proxySecret: config.proxySecret },
        upstreamTimeoutMs: config.upstreamTimeoutMs,
        log: log.child({ component: 'gateway' }),
        metrics,
      }),
    );
  },
};
