/**
 * Parley in a terminal: `make cli`, or `node --import tsx cmd/parley-cli/main.ts [flags]`.
 * Flags override env: --user-url (PARLEY_USER_URL), --room-url (PARLEY_ROOM_URL),
 * --query-url (PARLEY_QUERY_URL), --ws-url (PARLEY_WS_URL), --token (PARLEY_TOKEN).
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ENDPOINTS, RestClient } from '@parley/client';
import { Repl } from './src/repl.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    'user-url': { type: 'string', default: env['PARLEY_USER_URL'] ?? DEFAULT_ENDPOINTS.users },
    'room-url': { type: 'string', default: env['PARLEY_ROOM_URL'] ?? DEFAULT_ENDPOINTS.rooms },
    'query-url': { type: 'string', default: env['PARLEY_QUERY_URL'] ?? DEFAULT_ENDPOINTS.query },
    'ws-url': { type: 'string', default: env['PARLEY_WS_URL'] ?? 'ws://127.0.0.1:8003' },
    token: { type: 'string', default: env['PARLEY_TOKEN'] },
  },
});
const rest = new RestClient({ endpoints: { users: values['user-url'], rooms: values['room-url'], query: values['query-url'] }, token: values.token });
await new Repl(rest, values['ws-url'], process.stdin, process.stdout).run();
process.exit(0);
