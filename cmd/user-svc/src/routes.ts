import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/errors';
import { sessionSchema, userSchema } from '@parley/contracts';
import { bodyErrors, errorAnswers, jsonAnswer, noContent, registerRoutes, sessionSecurity, type ZodApp } from '@parley/http';
import { nameText, secretText, USERNAME_PATTERN } from '@parley/contracts';
import { clearSessionCookie, clientIp, extractToken, sessionCookie, type TrustedProxies } from '@parley/access';
import type { PostgresUserStore, UserRecord } from './users.js';
import type { SessionService, ValidatedSession } from './sessions.js';
import type { PasswordChecker } from './passwords.js';
import type { RateLimiter } from './rate-limit.js';

// ASCII only: case-insensitive uniqueness is then exactly lower(), with no Unicode folding traps.
const username = z
  .string()
  .regex(USERNAME_PATTERN, 'must be 3-32 characters of A-Z a-z 0-9 _ . - starting with a letter or digit')
  .meta({ description: 'unique regardless of case' });
const password = secretText(8, 256);

const RegisterBody = z.strictObject({ username, password, display_name: nameText(1, 64).optional().meta({ description: 'shown to others; defaults to the username' }) });
const LoginBody = z.strictObject({ username, password });
const userAnswer = z.object({ user: userSchema });

export interface UserRoutesDeps {
  users: PostgresUserStore;
  sessions: SessionService;
  passwords: PasswordChecker;
  limiter: RateLimiter;
  limits: { windowSeconds: number; perUsername: number; perIp: number };
  /** Per client IP only: a username does not exist yet, and naming one would let anyone block it. */
  registerLimits: { windowSeconds: number; perIp: number };
  sessionTtlSeconds: number;
  cookieSecure: boolean;
  /** Reverse proxies whose X-Forwarded-For names the client (login and registration limits per IP). */
  trustedProxies: TrustedProxies;
}

const userJson = (u: Pick<UserRecord, 'id' | 'username' | 'displayName'> & { createdAt?: Date }) => ({
  id: u.id,
  username: u.username,
  display_name: u.displayName,
  ...(u.createdAt ? { created_at: u.createdAt.toISOString() } : {}),
});

// Same status, body and (thanks to the dummy hash) time for "no such user" and "wrong password".
const badCredentials = () => new ParleyError('UNAUTHENTICATED', 'invalid username or password');

/** POST /v1/users, POST /v1/sessions, DELETE /v1/sessions/current and GET /v1/me. */
export function registerUserRoutes(app: FastifyInstance, d: UserRoutesDeps): void {
  registerRoutes(app, (routes) => userRoutes(routes, d));
}

function userRoutes(app: ZodApp, d: UserRoutesDeps): void {
  const authenticate = async (req: FastifyRequest): Promise<{ token: string; session: ValidatedSession }> => {
    const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
    if (!found) throw new ParleyError('UNAUTHENTICATED', 'missing session token');
    return { token: found.token, session: await d.sessions.validate(found.token) };
  };

  app.post(
    '/v1/users',
    {
      schema: {
        summary: 'Register',
        description: 'Rate limited per client address (429 with Retry-After). Does not log in: POST /v1/sessions next.',
        body: RegisterBody,
        response: { 201: jsonAnswer('created', userAnswer), ...errorAnswers(...bodyErrors, 'CONFLICT', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      const body = req.body;
      // Before the hash: scrypt is the cost a flood of registrations would make us pay.
      await enforceRegisterLimit(d, requestIp(req, d));
      const hash = await d.passwords.hash(body.password);
      const user = await d.users.create(body.username, body.display_name ?? body.username, hash);
      return reply.code(201).send({ user: userJson(user) });
    },
  );

  app.post(
    '/v1/sessions',
    {
      schema: {
        summary: 'Log in',
        description:
          'Unknown user and wrong password answer identically (401). Rate limited per username and per client address (429 with Retry-After). ' +
          'Also sets the `parley_session` cookie (HttpOnly, SameSite=Lax).',
        body: LoginBody,
        response: { 201: jsonAnswer('logged in', sessionSchema), ...errorAnswers(...bodyErrors, 'UNAUTHENTICATED', 'RATE_LIMITED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      const body = req.body;
      await enforceLoginLimits(d, requestIp(req, d), body.username.toLowerCase());
      const found = await d.users.findForLogin(body.username);
      const ok = await d.passwords.check(body.password, found?.passwordHash);
      if (!found || !ok) throw badCredentials();
      await upgradePasswordHash(req, d, found.user.id, body.password, found.passwordHash);
      const s = await d.sessions.create(found.user.id);
      reply.header('set-cookie', sessionCookie(s.token, d.sessionTtlSeconds, d.cookieSecure));
      return reply.code(201).send({ token: s.token, expires_at: s.expiresAt.toISOString(), user: userJson(found.user) });
    },
  );

  app.delete(
    '/v1/sessions/current',
    {
      schema: {
        summary: 'Log out (revoke the presented token)',
        security: sessionSecurity,
        response: { 204: noContent('revoked; the cookie is cleared'), ...errorAnswers('UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req, reply) => {
      const found = extractToken({ authorization: req.headers.authorization, cookie: req.headers.cookie });
      if (!found || !(await d.sessions.revoke(found.token))) throw new ParleyError('UNAUTHENTICATED', 'invalid or expired session');
      reply.header('set-cookie', clearSessionCookie(d.cookieSecure));
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/me',
    {
      schema: {
        summary: 'Who am I',
        security: sessionSecurity,
        response: { 200: jsonAnswer('the caller', userAnswer), ...errorAnswers('UNAUTHENTICATED', 'DEPENDENCY_UNAVAILABLE') },
      },
    },
    async (req) => {
      const { session } = await authenticate(req);
      return { user: userJson(session.user) };
    },
  );
}

/** Best effort: a failed upgrade is retried at the next login and never fails this one. */
async function upgradePasswordHash(req: FastifyRequest, d: UserRoutesDeps, userId: string, password: string, stored: string): Promise<void> {
  try {
    const next = await d.passwords.rehash(password, stored);
    if (next) await d.users.replacePasswordHash(userId, stored, next);
  } catch (err) {
    req.log.warn({ err: (err as Error).message, userId }, 'password hash upgrade failed');
  }
}

function requestIp(req: FastifyRequest, d: UserRoutesDeps): string {
  return clientIp(req.socket.remoteAddress ?? req.ip, req.headers['x-forwarded-for'], d.trustedProxies, req.headers['x-parley-proxy-secret']);
}

/** Fails open with the limiter (Redis down): registering matters more than throttling during an outage. */
async function enforceRegisterLimit(d: UserRoutesDeps, ip: string): Promise<void> {
  const byIp = await d.limiter.hit(`register:ip:${ip}`, d.registerLimits.perIp, d.registerLimits.windowSeconds);
  if (!byIp.allowed) throw new ParleyError('RATE_LIMITED', 'too many registrations from this address; try again later', { details: { retryAfterSeconds: byIp.retryAfterSeconds } });
}

async function enforceLoginLimits(d: UserRoutesDeps, ip: string, name: string): Promise<void> {
  const [byIp, byName] = await Promise.all([
    d.limiter.hit(`login:ip:${ip}`, d.limits.perIp, d.limits.windowSeconds),
    d.limiter.hit(`login:user:${name}`, d.limits.perUsername, d.limits.windowSeconds),
  ]);
  const blocked = [byIp, byName].filter((x) => !x.allowed);
  if (blocked.length > 0) {
    const retryAfterSeconds = Math.max(...blocked.map((b) => b.retryAfterSeconds));
    throw new ParleyError('RATE_LIMITED', 'too many login attempts; try again later', { details: { retryAfterSeconds } });
  }
}
