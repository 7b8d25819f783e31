import { z } from 'zod';
import { invalidInput } from '@parley/errors';
import type { FastifySchemaCompiler } from 'fastify';

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
