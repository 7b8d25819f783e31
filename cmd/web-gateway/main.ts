import { startService } from '@parley/service';
import { webGatewayService } from './app.js';

const svc = await startService(webGatewayService, process.env, (l) => console.error(l));
process.once('SIGTERM', () => svc.shutdown('SIGTERM'));
process.once('SIGINT', () => svc.shutdown('SIGINT'));
process.exit(await svc.done);
