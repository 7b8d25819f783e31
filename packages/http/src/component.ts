import type { FastifyInstance } from 'fastify';
import type { Component } from '@parley/lifecycle';
import { markClosing } from './app.js';

/**
 * Runs a fastify app as a lifecycle Component. Stop answers 503 to new requests, waits for
 * in-flight ones and closes idle keep-alive sockets; at the deadline it drops the rest.
 */
export function httpComponent(name: string, app: FastifyInstance, host: string, port: number): Component {
  return {
    name,
    start: async () => {
      await app.listen({ host, port });
      const addr = app.server.address();
      const bound = addr !== null && typeof addr === 'object' ? addr.port : port;
      app.log.info({ component: name, listening: `http://${host}:${bound}` }, 'http listening');
    },
    stop: async (signal) => {
      markClosing(app);
      const force = () => app.server.closeAllConnections();
      if (signal.aborted) force();
      signal.addEventListener('abort', force, { once: true });
      try {
        await app.close();
      } finally {
        signal.removeEventListener('abort', force);
      }
    },
  };
}
