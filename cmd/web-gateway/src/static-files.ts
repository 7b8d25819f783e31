import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type http from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Vite's output names: `assets/<name>-<content hash>.<ext>`. A changed file gets a new name. */
const HASHED_ASSET = /^\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * The page may only talk to its own origin and run its own scripts: even if a message body
 * slipped through as HTML, inline scripts and foreign loads would be refused by the browser.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface Cached {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  gzip: Buffer | undefined;
}

/**
 * Serves the built page (web/dist: index.html and Vite's hashed assets). Files are small, so each
 * is read once, gzipped once and kept in memory until its mtime changes. Every answer carries an
 * ETag; index.html asks the browser to revalidate (no-cache), so a rebuilt page is picked up on
 * the next load, and it names its assets by content hash, so those are cached for good.
 */
export class StaticFiles {
  private readonly root: string;
  private readonly cache = new Map<string, Cached>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Resolves a URL path inside the root; undefined for anything that would leave it. */
  resolvePath(urlPath: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath.split('?')[0]!);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
    const rel = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
    if (rel.split('/').some((seg) => seg === '..' || seg.startsWith('.'))) return undefined;
    const full = join(this.root, rel);
    return full.startsWith(this.root + sep) ? full : undefined;
  }

  async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = this.resolvePath(req.url ?? '/');
    const type = path && TYPES[extname(path)];
    if (!path || !type) return false;
    const file = await this.load(path);
    if (!file) return path === join(this.root, 'index.html') ? this.notBuilt(res) : false;
    const urlPath = (req.url ?? '/').split('?')[0]!;
    const cache = HASHED_ASSET.test(urlPath) ? 'public, max-age=31536000, immutable' : 'no-cache';
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': cache, etag: file.etag, vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip! : file.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  /** A checkout where `make web` has not run yet: say so instead of a bare 404. */
  private notBuilt(res: http.ServerResponse): true {
    const body = `The web page is not built: run \`make web\` (or \`make up\`); WEB_ROOT is ${this.root}\n`;
    res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)) }).end(body);
    return true;
  }

  private async load(path: string): Promise<Cached | undefined> {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const hit = this.cache.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await readFile(path);
    const zipped = body.length > 512 ? gzipSync(body) : undefined;
    const entry: Cached = { mtimeMs: st.mtimeMs, size: st.size, etag: `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`, body, gzip: zipped };
    this.cache.set(path, entry);
    return entry;
  }
}
