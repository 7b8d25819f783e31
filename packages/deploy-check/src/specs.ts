import { cassandraFields, elasticFields, postgresFields, type ConfigSpec } from '@parley/config';
import { serviceFields } from '@parley/service';
import { cqlCommandService } from '@parley/chat-command-cql-svc/app';
import { elasticCommandService } from '@parley/chat-command-elastic-svc/app';
import { ingestionService } from '@parley/chat-ingestion-svc/app';
import { queryService } from '@parley/chat-query-svc/app';
import { realtimeService } from '@parley/chat-realtime-svc/app';
import { roomService } from '@parley/room-svc/app';
import { userService } from '@parley/user-svc/app';
import { webGatewayService } from '@parley/web-gateway/app';

/**
 * Every process a deployment runs, with the config schema it parses: the services' own specs
 * (each with the fields startService adds: log level, shutdown deadline, tracing) and the migrations' (scripts/migrate.ts
 * parses exactly these three groups). This is the one list the chart, the compose file and the
 * image are held to.
 */
export const PROCESS_SPECS: Readonly<Record<string, ConfigSpec>> = Object.freeze({
  'user-svc': { ...userService.spec, ...serviceFields },
  'room-svc': { ...roomService.spec, ...serviceFields },
  'chat-query-svc': { ...queryService.spec, ...serviceFields },
  'chat-realtime-svc': { ...realtimeService.spec, ...serviceFields },
  'chat-ingestion-svc': { ...ingestionService.spec, ...serviceFields },
  'chat-command-cql-svc': { ...cqlCommandService.spec, ...serviceFields },
  'chat-command-elastic-svc': { ...elasticCommandService.spec, ...serviceFields },
  'web-gateway': { ...webGatewayService.spec, ...serviceFields },
  migrations: { ...postgresFields, ...cassandraFields, ...elasticFields },
});

export const SERVICES = Object.keys(PROCESS_SPECS).filter((p) => p !== 'migrations');

/** The process a container runs, from its command line (`cmd/<svc>/main.js`, `scripts/migrate.js`). */
export function processOfCommand(args: readonly string[]): string | undefined {
  for (const arg of args) {
    const svc = /(?:^|\/)cmd\/([a-z-]+)\/main\.(?:js|ts)$/.exec(arg)?.[1];
    if (svc !== undefined && svc in PROCESS_SPECS) return svc;
    if (/(?:^|\/)scripts\/migrate\.(?:js|ts)$/.test(arg)) return 'migrations';
  }
  return undefined;
}
