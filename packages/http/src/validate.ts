import { hasLoneSurrogate } from '@parley/contracts';
import { z } from 'zod';
import { ParleyError } from '@parley/errors';

/**
 * Parses untrusted input with a zod schema; failure is a 400 VALIDATION_FAILED listing each
 * problem by path. Schemas for bodies should be `z.strictObject` so unknown fields are refused.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || where, message: i.message }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ParleyError('VALIDATION_FAILED', `invalid ${where}: ${summary}`, { details: { issues } });
}

// Cc covers NUL (PostgreSQL text cannot hold it) and the C1 range; line and paragraph
// separators and bidi overrides make names that render differently from what is stored.
const FORBIDDEN_IN_NAMES = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

// String.prototype.isWellFormed is ES2024; Node 20 has it but our lib target does not.
export function isWellFormed(s: string): boolean {
  return !hasLoneSurrogate(s);
}

/**
 * A human-visible name: well-formed Unicode (no lone surrogates), no control characters, no
 * leading or trailing spaces, length counted in code points.
 */
export function nameText(min: number, max: number) {
  return z
    .string()
    .refine((s) => isWellFormed(s), 'must be well-formed Unicode')
    .refine((s) => !FORBIDDEN_IN_NAMES.test(s), 'must not contain control characters')
    .refine((s) => s.trim() === s, 'must not start or end with whitespace')
    .refine((s) => [...s].length >= min, `must be at least ${min} characters`)
    .refine((s) => [...s].length <= max, `must be at most ${max} characters`);
}

/** A secret such as a password: any well-formed text without NUL, bounded so hashing stays cheap to refuse. */
export function secretText(min: number, max: number) {
  return z
    .string()
    .min(min, `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((s) => isWellFormed(s) && !s.includes('\u0000'), 'must be well-formed Unicode without NUL');
}

