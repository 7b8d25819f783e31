/* global process, URL */
// The image's HEALTHCHECK: GET /healthz of the process the container runs (PID 1), on the port
// its own configuration gives it (deploy/image/health-ports.json). Reads PID 1's command line
// and environment from /proc, so one image serves every service. A container that runs no
// service (migrations, the terminal client) is healthy while it runs.
//
//   node deploy/image/healthcheck.mjs [pid]     (pid: 1 unless given, for trying it outside a container)
//
// Exit 0 healthy, 1 not (the Docker contract).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

const ports = JSON.parse(readFileSync(new URL('./health-ports.json', import.meta.url), 'utf8'));
const nul = (path) => readFileSync(path, 'latin1').split('\0').filter((s) => s.length > 0);
const pid = process.argv[2] ?? '1';
const service = nul(`/proc/${pid}/cmdline`).map((arg) => /(?:^|\/)cmd\/([a-z-]+)\/main\.js$/.exec(arg)?.[1]).find((s) => s !== undefined);
const where = service === undefined ? undefined : ports[service];
if (where === undefined) process.exit(0);
const env = Object.fromEntries(nul(`/proc/${pid}/environ`).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const port = Number(env[where.env] || where.default);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write(`${service}: ${where.env} is ${port}: a health check needs a fixed port\n`);
  process.exit(1);
}
const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 2500 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (err) => {
  process.stderr.write(`${service}: GET /healthz on ${port}: ${err.message}\n`);
  process.exit(1);
});
req.end();
