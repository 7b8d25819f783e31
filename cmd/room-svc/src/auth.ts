import { createHash } from 'node:crypto';
import { credentials, Metadata } from '@grpc/grpc-js';
import { userV1, fromGrpcError } from '@parley/proto';
import { ParleyError } from '@parley/errors';

export interface Caller {
  id: string;
  username: string;
  displayName: string;
}

/** Who is behind a session token. */
export interface SessionValidator {
  validate(token: string): Promise<Caller>;
  close(): void;
}

const MAX_ENTRIES = 10_000;
const CALL_TIMEOUT_MS = 2000;

/**
 * Asks user-svc over gRPC and remembers positive answers briefly. An entry is kept until the
 * earlier of `ttlMs` from now and the `cache_until_ms` user-svc granted, so a revoked token is
 * refused here within user-svc's documented bound. Failures are never cached.
 */
export class GrpcSessionValidator implements SessionValidator {
  private readonly client: userV1.UserServiceClient;
  private readonly cache = new Map<string, { caller: Caller; until: number }>();

  constructor(
    address: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.client = new userV1.UserServiceClient(address, credentials.createInsecure());
  }

  async validate(token: string): Promise<Caller> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.caller;
    this.cache.delete(key);
    const res = await this.ask(token);
    if (!res.user) throw new ParleyError('UNAUTHENTICATED', 'invalid or expired session');
    const caller = { id: res.user.id, username: res.user.username, displayName: res.user.displayName };
    const until = Math.min(this.now() + this.ttlMs, res.cacheUntilMs);
    if (until > this.now()) {
      if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, { caller, until });
    }
    return caller;
  }

  close(): void {
    this.client.close();
  }

  private ask(token: string): Promise<userV1.ValidateSessionResponse> {
    return new Promise((resolve, reject) => {
      this.client.validateSession({ token }, new Metadata(), { deadline: this.now() + CALL_TIMEOUT_MS }, (err, res) => {
        if (err) return reject(fromGrpcError(err, 'user-svc'));
        resolve(res!);
      });
    });
  }
}
