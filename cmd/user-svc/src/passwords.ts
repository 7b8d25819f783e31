import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes are self-describing so the cost can rise without a migration:
 *
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>
 *
 * Verification uses the parameters stored with the hash, never the current config.
 */
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const R = 8;
const P = 1;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  // Node refuses by default when 128 * N * r exceeds 32 MiB; allow twice what is needed.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, logN, R, P);
  return ['scrypt', logN, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isInteger) || logN < 1 || logN > 24 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const key = Buffer.from(parts[5]!, 'base64url');
  if (key.length !== KEY_LENGTH) return undefined;
  return { logN, r, p, salt: Buffer.from(parts[4]!, 'base64url'), key };
}

/** False for a wrong password and for a hash it cannot read; never throws on bad input. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h) return false;
  return timingSafeEqual(await derive(password, h.salt, h.logN, h.r, h.p), h.key);
}

/**
 * Checks a password against a user that may not exist. For an unknown user a dummy hash of
 * the current cost is verified, so the answer takes as long as for a wrong password and an
 * attacker cannot tell the two apart by timing.
 */
export class PasswordChecker {
  private dummy: Promise<string> | undefined;
  constructor(private readonly logN: number) {}

  hash(password: string): Promise<string> {
    return hashPassword(password, this.logN);
  }

  /**
   * After a successful check: a fresh hash at the current cost when `stored` was made with other
   * parameters (an older USER_SCRYPT_LOG_N), else undefined. Login is the only moment the
   * plaintext is at hand, so it is the only moment a hash can be upgraded.
   */
  async rehash(password: string, stored: string): Promise<string | undefined> {
    const h = parseHash(stored);
    if (h && h.logN === this.logN && h.r === R && h.p === P) return undefined;
    return this.hash(password);
  }

  async check(password: string, stored: string | undefined): Promise<boolean> {
    if (stored !== undefined) return verifyPassword(password, stored);
    this.dummy ??= hashPassword(randomBytes(16).toString('hex'), this.logN);
    await verifyPassword(password, await this.dummy);
    return false;
  }
}
