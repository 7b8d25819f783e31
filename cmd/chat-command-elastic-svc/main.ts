import { startService } from '@parley/service';
import { elasticCommandService } from './app.js';

const svc = await startService(elasticCommandService, process.env, (l) => console.error(l));
process.once('SIGTERM', () => svc.shutdown('SIGTERM'));
process.once('SIGINT', () => svc.shutdown('SIGINT'));
process.exit(await svc.done);
