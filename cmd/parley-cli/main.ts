/**
 * Parley in a terminal: `make cli`, or `node --import tsx cmd/parley-cli/main.ts [flags]`.
 * Flags override env: --user-url (PARLEY_USER_URL), --room-url (PARLEY_ROOM_URL),
 * --query-url (PARLEY_QUERY_URL), --ws-url (PARLEY_WS_URL), --token (PARLEY_TOKEN).
 */
import { parseArgs } from 'node:util';
import { ParleyApi } from './src/api.js';
import { Repl } from './src/repl.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    'user-url': { type: 'string', default: env['PARLEY_USER_URL'] ?? 'http://127.0.0.1:8001' },
    'room-url': { type: 'string', default: env['PARLEY_ROOM_URL'] ?? 'http://127.0.0.1:8002' },
    'query-url': { type: 'string', default: env['PARLEY_QUERY_URL'] ?? 'http://127.0.0.1:8004' },
    'ws-url': { type: 'string', default: env['PARLEY_WS_URL'] ?? 'ws://127.0.0.1:8003' },
    token: { type: 'string', default: env['PARLEY_TOKEN'] },
  },
});
const api = new ParleyApi({ user: values['user-url']!, room: values['room-url']!, query: values['query-url']!, ws: values['ws-url']! });
api.token = values.token;
await new Repl(api, process.stdin, process.stdout).run();
process.exit(0);
