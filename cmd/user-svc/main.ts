import { startService } from '@parley/service';
import { userService } from './app.js';

const svc = await startService(userService, process.env, (l) => console.error(l));
process.once('SIGTERM', () => svc.shutdown('SIGTERM'));
process.once('SIGINT', () => svc.shutdown('SIGINT'));
process.exit(await svc.done);
