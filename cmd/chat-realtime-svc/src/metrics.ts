import { Counter, DURATION_BUCKETS, Gauge, Histogram, type Registry } from '@parley/metrics';

/**
 * The edge's metric families. Label values are closed sets: frame types of the protocol
 * (or `invalid`), close codes, error codes.
 *
 *   parley_ws_connections                     open sockets (gauge, read from the registry at scrape)
 *   parley_ws_joins_total                     sockets admitted and opened (a join of one room)
 *   parley_ws_refusals_total{code}            upgrades refused, by error code (UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, ...)
 *   parley_ws_closes_total{code}              sockets closed, by WebSocket close code (4008 = slow consumer: backpressure)
 *   parley_ws_backpressure_drains_total       a socket's send buffer drained after it had filled (uWS `drain`)
 *   parley_ws_fanout_publishes_total          live frames published to a room topic (once per frame, not per socket)
 *   parley_ws_frames_received_total{type}     client frames by type (`invalid` for a frame that did not parse)
 *   parley_ws_frames_sent_total{type}         frames sent to sockets, by type (a live message counts once per socket)
 *   parley_ws_send_duration_seconds{outcome}  a command frame (send, edit, delete, react) until its answer:
 *                                             acked (after the PubAck), rate_limited, unavailable (store or
 *                                             stream could not be reached), refused (the checks said no)
 */
export interface EdgeMetrics {
  joins: Counter;
  refusals: Counter<'code'>;
  closes: Counter<'code'>;
  drains: Counter;
  fanout: Counter;
  framesIn: Counter<'type'>;
  framesOut: Counter<'type'>;
  sendSeconds: Histogram<'outcome'>;
}

export function edgeMetrics(registry: Registry, connections: () => number): EdgeMetrics {
  new Gauge({
    name: 'parley_ws_connections',
    help: 'open WebSocket connections',
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    joins: counter('parley_ws_joins_total', 'WebSocket connections admitted to a room and opened'),
    refusals: counter('parley_ws_refusals_total', 'WebSocket upgrades refused, by error code', ['code']),
    closes: counter('parley_ws_closes_total', 'WebSocket connections closed, by close code', ['code']),
    drains: counter('parley_ws_backpressure_drains_total', 'socket send buffers that drained after filling up'),
    fanout: counter('parley_ws_fanout_publishes_total', 'live frames published to a room topic'),
    framesIn: counter('parley_ws_frames_received_total', 'client frames received, by type', ['type']),
    framesOut: counter('parley_ws_frames_sent_total', 'frames sent to a socket, by type', ['type']),
    sendSeconds: new Histogram({ name: 'parley_ws_send_duration_seconds', help: 'a command frame until its answer, by outcome', labelNames: ['outcome'], buckets: DURATION_BUCKETS, registers: [registry] }),
  };
}
