import { z } from 'zod';
import { hasLoneSurrogate } from './text.js';

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
