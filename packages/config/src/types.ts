import { z } from 'zod';

/** Schemas that turn environment strings into typed values. */
export const types = {
  port: () => z.coerce.number().int('must be an integer').min(0).max(65535),
  int: (min: number, max: number) => z.coerce.number().int('must be an integer').min(min).max(max),
  string: (maxLength = 1024) => z.string().min(1).max(maxLength),
  enumOf: <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values),
  bool: () =>
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
      .transform((s) => s === 'true' || s === '1' || s === 'yes'),
  url: (protocols: readonly string[]) =>
    z.string().refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with protocol ${protocols.join(' or ')}` },
    ),
  /** Comma separated host:port list (Kafka brokers, Cassandra contact points). */
  hostPorts: () =>
    z
      .string()
      .transform((s) => s.split(',').map((p) => p.trim()).filter((p) => p.length > 0))
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9.\-_:[\]]+:\d{1,5}$/, 'each entry must be host:port'))
          .min(1, 'needs at least one host:port'),
      ),
  /** CQL/ES identifiers: lower-case, safe to splice into DDL after validation. */
  identifier: () => z.string().regex(/^[a-z][a-z0-9_]{0,47}$/, 'must match ^[a-z][a-z0-9_]{0,47}$'),
} as const;
