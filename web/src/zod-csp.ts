import { config } from 'zod';

/**
 * Imported first (module order is evaluation order): @parley/contracts builds its schemas when it
 * loads, and zod decides then whether to compile parsers with `new Function`. The gateway's CSP
 * (`script-src 'self'`, no 'unsafe-eval') refuses that, and even zod's guarded probe would report
 * a CSP violation on every load. Parsing without the compiler is fast enough for chat frames.
 */
config({ jitless: true });
