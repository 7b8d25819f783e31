/**
 * `make erase ARGS="--user <user id>"` (every room), `--user <id> --room <id>` or `--room <id>`:
 * asks chat-query-svc's operator API (POST /v1/admin/erasures) to erase those messages from both
 * stores for good, and prints what was logged for erasure per room (the workers apply it within
 * the pipeline's lag; `make dlq` shows any that failed). The operator token comes from QUERY_ADMIN_TOKEN, or from the file `make up`
 * generated (.run/admin-token); the service from QUERY_URL (default http://127.0.0.1:8004).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { erasureReportSchema, erasureRequestSchema } from '@parley/contracts';

const usage = 'usage: make erase ARGS="--user <user id> [--room <room id>]"  or  ARGS="--room <room id>"';
let values;
try {
  ({ values } = parseArgs({ options: { user: { type: 'string' }, room: { type: 'string' } }, strict: true }));
} catch (err) {
  process.stderr.write(`erase: ${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}
const request = erasureRequestSchema.safeParse({ ...(values.user ? { user_id: values.user } : {}), ...(values.room ? { room_id: values.room.toLowerCase() } : {}) });
if (!request.success) {
  process.stderr.write(`erase: ${request.error.issues.map((i) => i.message).join('; ')}\n${usage}\n`);
  process.exit(2);
}
const token = process.env['QUERY_ADMIN_TOKEN'] || readToken(`${process.env['PARLEY_RUN_DIR'] || '.run'}/admin-token`);
if (!token) {
  process.stderr.write('erase: no operator token: set QUERY_ADMIN_TOKEN (the one chat-query-svc runs with) or start the services with make up\n');
  process.exit(2);
}
const base = process.env['QUERY_URL'] || 'http://127.0.0.1:8004';
const res = await fetch(`${base}/v1/admin/erasures`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(request.data),
}).catch((err: unknown) => {
  process.stderr.write(`erase: chat-query-svc at ${base} did not answer: ${(err as Error).message}\n`);
  process.exit(1);
});
const body: unknown = await res.json().catch(() => undefined);
if (!res.ok) {
  process.stderr.write(`erase: ${res.status} ${JSON.stringify(body)}\n`);
  process.exit(1);
}
const report = erasureReportSchema.parse(body);
for (const r of report.rooms) process.stdout.write(`room ${r.room_id}: ${r.messages} message(s), erasure event ${r.event_id}\n`);
process.stdout.write(`${report.messages} message(s) in ${report.rooms.length} room(s) logged for erasure; Cassandra and Elasticsearch apply it in each room's order\n`);

function readToken(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
