import type { z } from 'zod';
import { ParleyError } from './index.js';

/**
 * Parses untrusted input with a zod schema; failure is a 400 VALIDATION_FAILED listing each
 * problem by path. Schemas for bodies should be `z.strictObject` so unknown fields are refused.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw invalidInput(r.error, where);
}

/**
 * The one wording of bad input, for REST routes and gRPC calls alike:
 * `invalid query: limit: must be at most 200; order: ...`, each issue also in `details.issues`.
 */
export function invalidInput(error: z.ZodError, where: string): ParleyError {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.') || where, message: i.message }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new ParleyError('VALIDATION_FAILED', `invalid ${where}: ${summary}`, { details: { issues } });
}
