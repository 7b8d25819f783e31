import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Who is really calling when a reverse proxy (web-gateway) stands in front: every browser would
 * otherwise share the proxy's address and one per-IP limit.
 *
 * Only hops we trust may speak for the client. Each trusted proxy appends the address it saw to
 * `X-Forwarded-For`, so reading that list from the right and skipping trusted hops reaches the
 * first address that no trusted proxy vouches for, which is the client. Entries further left are
 * whatever the client chose to send and are never believed.
 *
 * An address alone cannot tell the proxy from a client when both connect from the same place
 * (everything on one host: 127.0.0.1). Then the proxy also proves itself with a secret it shares
 * with the services behind it, sent in PROXY_SECRET_HEADER on what it forwards (and removed from
 * what it receives): a peer is a trusted proxy only with a trusted address and the secret.
 */
export interface TrustedProxies {
  readonly size: number;
  has(ip: string): boolean;
  /** Whether the PROXY_SECRET_HEADER a request carried is the proof required (always, when none is). */
  vouches(presented: string | readonly string[] | undefined): boolean;
}

/** The header web-gateway adds to what it forwards, carrying the secret shared with the services. */
export const PROXY_SECRET_HEADER = 'x-parley-proxy-secret';

// 16 to 256 visible ASCII characters: shorter is guessable, and it must travel as a header value.
const PROXY_SECRET_TEXT = /^[\x21-\x7e]{16,256}$/;

/** Parses "127.0.0.1, ::1, 10.0.0.0/8": IPs or CIDR ranges, comma separated; empty trusts nobody. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  let size = 0;
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [addr, bits, extra] = entry.split('/');
    const ip = normalizeIp(addr ?? '');
    const family = ip === undefined ? 0 : isIP(ip);
    if (ip === undefined || extra !== undefined) throw new Error(`not an IP or CIDR range: ${entry}`);
    if (bits === undefined) {
      list.addAddress(ip, family === 4 ? 'ipv4' : 'ipv6');
    } else {
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`bad prefix length in ${entry}`);
      list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    size += 1;
  }
  return {
    size,
    has: (ip) => {
      const n = normalizeIp(ip);
      return n !== undefined && list.check(n, isIP(n) === 4 ? 'ipv4' : 'ipv6');
    },
    vouches: () => true,
  };
}

/**
 * The same proxies, believed only when they also present `secret`; an empty secret leaves the
 * address check alone (right when the network lets nothing but the proxy reach the service).
 * Compared as SHA-256 digests in constant time: neither the length nor a prefix leaks.
 */
export function requireProxySecret(proxies: TrustedProxies, secret: string): TrustedProxies {
  if (secret === '') return proxies;
  const want = digest(secret);
  return {
    size: proxies.size,
    has: (ip) => proxies.has(ip),
    // Two copies of the header are not one proof: a client may have added the other.
    vouches: (presented) => typeof presented === 'string' && presented !== '' && timingSafeEqual(digest(presented), want),
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** A config field schema for a proxy secret: empty (none required) or 16 to 256 visible ASCII characters. */
export const proxySecretSchema = z.string().refine((s) => s === '' || PROXY_SECRET_TEXT.test(s), { message: 'must be empty or 16 to 256 visible ASCII characters' });

/** A config field schema for a trusted proxy list (see parseTrustedProxies). */
export const trustedProxiesSchema = z.string().transform((text, ctx) => {
  try {
    return parseTrustedProxies(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

/**
 * One spelling per address, so rate-limit keys match however a hop wrote it: brackets, ports and
 * zones removed, IPv6 compressed and lower-cased, IPv4-mapped IPv6 (`::ffff:1.2.3.4`, how a
 * dual-stack socket reports IPv4 peers) turned into plain IPv4. Undefined when not an address.
 */
export function normalizeIp(raw: string): string | undefined {
  let s = raw.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return undefined;
    s = s.slice(1, end);
  } else if (/^[\d.]+:\d+$/.test(s)) {
    s = s.slice(0, s.lastIndexOf(':'));
  }
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/**
 * The client's address: the direct peer unless the peer is a trusted proxy (its address, and the
 * secret in `proxySecret` when one is required); then the right-most `X-Forwarded-For` entry that
 * is not trusted. If every hop is trusted, the left-most one. An unreadable entry stops the walk
 * at the last address a trusted hop vouched for, since what lies beyond it cannot be attributed.
 */
export function clientIp(
  peer: string,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
  proxySecret?: string | readonly string[],
): string {
  const direct = normalizeIp(peer) ?? peer;
  if (trusted.size === 0 || !trusted.has(direct) || !trusted.vouches(proxySecret)) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '')).split(',');
  let nearest = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    if (hops[i]!.trim() === '') continue;
    const ip = normalizeIp(hops[i]!);
    if (ip === undefined) return nearest;
    if (!trusted.has(ip)) return ip;
    nearest = ip;
  }
  return nearest;
}
