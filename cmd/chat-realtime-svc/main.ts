import { startService } from '@parley/service';
import { realtimeService } from './app.js';

const svc = await startService(realtimeService, process.env, (l) => console.error(l));
process.once('SIGTERM', () => svc.shutdown('SIGTERM'));
process.once('SIGINT', () => svc.shutdown('SIGINT'));
process.exit(await svc.done);
