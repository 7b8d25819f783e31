import { hasLoneSurrogate } from '@parley/contracts';
import { z } from 'zod';
import { ParleyError } from '@parley/errors';
import type { FastifySchemaCompiler } from 'fastify';

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

// Fastify's names for the parts of a request, and the words our messages have always used.
const PART_NAMES: Record<string, string> = { body: 'body', params: 'path', querystring: 'query', headers: 'headers' };

/**
 * Validates a route's zod schemas (`schema.params`, `querystring`, `body`) before its handler
 * runs, with parseInput's wording, so moving a check from a handler into a route schema
 * changes no answer. Fastify checks params, then body, then query, and stops at the first
 * part that fails; the handler sees the parsed values (defaults filled, ids canonical).
 */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, method, url }) => {
  if (!(schema instanceof z.ZodType)) throw new Error(`${method} ${url}: the ${httpPart ?? 'request'} schema is not a zod schema`);
  const where = PART_NAMES[httpPart ?? 'body'] ?? String(httpPart);
  return (data) => {
    const r = schema.safeParse(data);
    return r.success ? { value: r.data } : { error: invalidInput(r.error, where) };
  };
};

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
    .refine((s) => [...s].length <= max, `must be at most ${max} characters`)
    // The refinements are invisible to JSON Schema; say in the API document what they check.
    // Its minLength/maxLength count code points, as these do.
    .meta({ minLength: min, maxLength: max, description: 'well-formed Unicode, no control characters, no leading or trailing whitespace' });
}

/** A secret such as a password: any well-formed text without NUL, bounded so hashing stays cheap to refuse. */
export function secretText(min: number, max: number) {
  return z
    .string()
    .min(min, `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((s) => isWellFormed(s) && !s.includes('\u0000'), 'must be well-formed Unicode without NUL')
    .meta({ description: 'well-formed Unicode without NUL' });
}

