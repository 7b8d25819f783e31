import { credentials, Metadata } from '@grpc/grpc-js';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import { LRUCache } from 'lru-cache';
import { ParleyError } from '@parley/errors';
import { messageSchema, type Message, type MessageEvent } from '@parley/contracts';
import { chatV1, fromGrpcError, messageFromProto, propagateTrace } from '@parley/proto';
import { decodeEnvelope, encodeEnvelope, parseId, timeOf, type Envelope } from '@parley/envelope';
import { JS_NO_MESSAGE_FOUND, jsApiErrorCode, roomSubject } from '@parley/nats';

/**
 * One message ready for a frame: its id for merging, its canonical JSON for sending, and the
 * time of its latest change (to keep the newer of two copies).
 */
export interface Backlogged {
  id: bigint;
  json: string;
  changedAt: number;
}

export interface HistoryPage {
  messages: Backlogged[];
  hasMore: boolean;
  /** With `changesAfterId`: messages up to it that changed since about its time. */
  changed: Backlogged[];
  changesTruncated: boolean;
}

/** The stored history of a room, as the caller is allowed to see it. */
export interface HistorySource {
  /**
   * Oldest to newest; `afterId` asks for what came after it, otherwise the newest `limit`.
   * `changesAfterId` (a resume's last id) also asks for the changes the client missed.
   */
  list(roomId: string, token: string, opts: { limit: number; afterId?: bigint; changesAfterId?: bigint }): Promise<HistoryPage>;
  close(): void;
}

const decoder = new TextDecoder();

/** A message event as a message (no change yet); other kinds are not messages (undefined). */
export function toBacklogged(env: Envelope): Backlogged | undefined {
  if (env.kind !== 'message') return undefined;
  return { id: BigInt(env.id), json: decoder.decode(encodeEnvelope(env)), changedAt: env.created_at };
}

/** A message in its current state (from the store, or an announcement). */
export function messageBacklogged(m: Message): Backlogged {
  return { id: BigInt(m.id), json: JSON.stringify(m), changedAt: m.changed_at ?? m.created_at };
}

/**
 * Entries kept by each memo (history rows, stream messages): twenty rooms' pages of 50, about
 * 1 KB an entry (the source bytes, the JSON and the bookkeeping), so 1 MB each at the most.
 */
export const DEFAULT_MEMO_ENTRIES = 1000;

const MISS: unique symbol = Symbol('miss');

/**
 * What converting a message's encoded bytes gave (undefined: not a valid envelope, left out),
 * for bytes that repeat: every join of a room reads the same history rows and stream messages,
 * and decoding, validating and encoding them again was most of the garbage a join made. A hit
 * needs the same key and the same bytes, and conversion is a pure function of the bytes, so a
 * hit gives what converting again would. Bounded by the project's one cache (lru-cache): the
 * least recently used entry goes first.
 */
export class ByteMemo {
  private readonly entries: LRUCache<number, { bytes: Buffer; item: Backlogged | undefined }>;

  constructor(max: number = DEFAULT_MEMO_ENTRIES) {
    this.entries = new LRUCache({ max });
  }

  /** The entry under `key` if it was converted from exactly `bytes[start, end)`. */
  lookup(key: number, bytes: Uint8Array, start: number, end: number): Backlogged | undefined | typeof MISS {
    const e = this.entries.get(key);
    return e !== undefined && e.bytes.length === end - start && e.bytes.compare(bytes, start, end) === 0 ? e.item : MISS;
  }

  remember(key: number, bytes: Uint8Array, start: number, end: number, item: Backlogged | undefined): void {
    // A copy: the source is a view of a larger buffer (a NATS read, a gRPC frame) that must not stay pinned.
    const copy = Buffer.alloc(end - start);
    copy.set(bytes.subarray(start, end));
    this.entries.set(key, { bytes: copy, item });
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * chat-query-svc over gRPC, on behalf of the joining user (their token goes along, so the query
 * service enforces membership itself). Rows that do not form a valid envelope are skipped rather
 * than failing the whole join.
 */
export class GrpcHistorySource implements HistorySource {
  private readonly client: chatV1.ChatQueryServiceClient;
  private readonly decodePage: (buf: Buffer) => HistoryPage;

  constructor(
    address: string,
    private readonly timeoutMs: number,
    maxBodyBytes: number,
    memoEntries: number = DEFAULT_MEMO_ENTRIES,
  ) {
    this.client = new chatV1.ChatQueryServiceClient(address, credentials.createInsecure(), { interceptors: [propagateTrace] });
    // Keyed by a hash of each row's bytes.
    const rows = new ByteMemo(memoEntries);
    this.decodePage = (buf) => decodeListResponse(buf, rows, maxBodyBytes);
  }

  async list(roomId: string, token: string, opts: { limit: number; afterId?: bigint; changesAfterId?: bigint }): Promise<HistoryPage> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const req = {
      roomId,
      limit: opts.limit,
      beforeId: '',
      afterId: opts.afterId === undefined ? '' : opts.afterId.toString(),
      changesAfterId: opts.changesAfterId === undefined ? '' : opts.changesAfterId.toString(),
    };
    // The generated method with the generated request encoder, but a response decoder that
    // converts rows as it meets them and skips the ones it converted before.
    return new Promise<HistoryPage>((resolve, reject) => {
      this.client.makeUnaryRequest(LIST.path, LIST.requestSerialize, this.decodePage, req, md, { deadline: Date.now() + this.timeoutMs }, (err, r) =>
        err ? reject(fromGrpcError(err, 'chat-query-svc')) : resolve(r!),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

const LIST = chatV1.ChatQueryServiceService.listMessages;

/**
 * parley.chat.v1.ListMessagesResponse, read the way the generated decoder reads it (unknown
 * fields skipped, an end-group or zero tag ends the message), the rows converted on the way:
 *
 *   1: repeated ChatMessage messages   tag 10, length-delimited; decoded by ChatMessage.decode
 *   2: bool has_more                   tag 16, varint
 *   3: repeated ChatMessage changed    tag 26, as 1
 *   4: bool changes_truncated          tag 32, varint
 *
 * A row seen before (same bytes) is not decoded again. Malformed bytes throw as in the
 * generated decoder, which grpc-js reports as a failed call.
 */
export function decodeListResponse(buf: Uint8Array, rows: ByteMemo, maxBodyBytes: number): HistoryPage {
  const reader = new BinaryReader(buf);
  const messages: Backlogged[] = [];
  const changed: Backlogged[] = [];
  let hasMore = false;
  let changesTruncated = false;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 10 || tag === 26) {
      const len = reader.uint32();
      const start = reader.pos;
      const end = start + len;
      const key = end <= reader.len ? hashBytes(buf, start, end) : 0;
      let item = end <= reader.len ? rows.lookup(key, buf, start, end) : MISS;
      if (item === MISS) {
        item = rowToBacklogged(chatV1.ChatMessage.decode(reader, len), maxBodyBytes);
        rows.remember(key, buf, start, end, item);
      } else {
        reader.pos = end;
      }
      if (item !== undefined) (tag === 10 ? messages : changed).push(item);
      continue;
    }
    if (tag === 16) {
      hasMore = reader.bool();
      continue;
    }
    if (tag === 32) {
      changesTruncated = reader.bool();
      continue;
    }
    if ((tag & 7) === 4 || tag === 0) break;
    reader.skip(tag & 7);
  }
  return { messages, hasMore, changed, changesTruncated };
}

/** A row that does not form a valid message is left out; the rest of the history still helps. */
function rowToBacklogged(m: chatV1.ChatMessage, maxBodyBytes: number): Backlogged | undefined {
  const parsed = messageSchema.safeParse(messageFromProto(m));
  if (!parsed.success || Buffer.byteLength(parsed.data.body) > maxBodyBytes) return undefined;
  return messageBacklogged(parsed.data);
}

/** FNV-1a (32 bits): only a memo key, so a collision costs a conversion, never a wrong row. */
function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/** What one read of the stream tail gave. */
export interface RecentRead {
  /** In stream order. */
  messages: Backlogged[];
  /**
   * The stream held more than `max` before the live subscription's first message: `messages`
   * are the newest `max` of them (a contiguous run up to where live frames begin), the older
   * ones were skipped.
   */
  overflowed: boolean;
  /** The highest stream sequence the read saw (0: none): the hub delivers up to it before the socket goes live. */
  throughSeq?: number;
}

/** Recent messages straight from the stream: what the pipeline has not stored yet. */
export interface RecentSource {
  /** Newest id published to the room, or undefined for an empty room. */
  newestId(roomId: string): Promise<bigint | undefined>;
  /**
   * Messages from `sinceMs` on, in stream order, until `stop(id)` says the live subscription
   * already has the rest or the stream has nothing more; only the newest `max` are kept.
   */
  read(roomId: string, sinceMs: number, max: number, stop: (id: bigint) => boolean): Promise<RecentRead>;
}

const FETCH_BATCH = 256;
/** A lookup by id starts this long before the id's time (ids of other edges may run behind). */
const FIND_SKEW_MS = 2000;
/** Stream messages a lookup by id reads at most (the room's traffic since the id's time). */
const FIND_SCAN_MAX = 20_000;
const FETCH_EXPIRES_MS = 1000;
/** A join reads at most this many times `max` from the stream before giving up on the rest. */
const SCAN_FACTOR = 20;

/** The message stream as the RecentSource: direct get for the newest, an ordered consumer for the rest. */
export class JetStreamRecentSource implements RecentSource {
  /**
   * Keyed by stream sequence; a hit needs the same bytes too (a stream deleted and created
   * again numbers its messages from 1 again).
   */
  private readonly messages: ByteMemo;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly maxBodyBytes: number,
    memoEntries: number = DEFAULT_MEMO_ENTRIES,
  ) {
    this.messages = new ByteMemo(memoEntries);
  }

  async newestId(roomId: string): Promise<bigint | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: roomSubject(roomId, this.prefix) });
      const item = this.convert(m.seq, m.data);
      // Decoded again only to throw the decoder's own error, as without the memo.
      return item === undefined ? parseId(decodeEnvelope(m.data, { maxBodyBytes: this.maxBodyBytes }).id) : item.id;
    } catch (err) {
      if (jsApiErrorCode(err) === JS_NO_MESSAGE_FOUND) return undefined;
      throw err;
    }
  }

  async read(roomId: string, sinceMs: number, max: number, stop: (id: bigint) => boolean): Promise<RecentRead> {
    const out: Backlogged[] = [];
    let overflowed = false;
    let throughSeq = 0;
    await this.scan(roomId, sinceMs, max * SCAN_FACTOR, (seq, data) => {
      throughSeq = Math.max(throughSeq, seq);
      const item = this.convert(seq, data);
      if (item === undefined) return false;
      if (stop(item.id)) return true;
      out.push(item);
      // A sliding window: the newest `max` before live frames begin are the ones that count.
      if (out.length > max) {
        out.shift();
        overflowed = true;
      }
      return false;
    });
    return { messages: out, overflowed, throughSeq };
  }

  /**
   * The message `id` of the room, looked up in the stream from its own time (minus the skew
   * between edges): for a command naming a message the store does not hold yet. Undefined when
   * the stream has no such message in this room.
   */
  async find(roomId: string, id: bigint): Promise<MessageEvent | undefined> {
    let found: MessageEvent | undefined;
    const want = id.toString();
    await this.scan(roomId, timeOf(id) - FIND_SKEW_MS, FIND_SCAN_MAX, (_seq, data) => {
      try {
        const env = decodeEnvelope(data, { maxBodyBytes: this.maxBodyBytes });
        if (env.kind === 'message' && env.id === want) found = env;
      } catch {
        // not an envelope: not the one
      }
      return found !== undefined;
    }).catch((err: unknown) => {
      // A lookup that ran out of budget found nothing; anything else is the stream being away.
      if (!(err instanceof ParleyError && err.code === 'DEPENDENCY_UNAVAILABLE' && err.details?.['reason'] === 'scan_limit')) throw err;
    });
    return found;
  }

  /**
   * Reads the room's messages from `sinceMs` on, in stream order, until `visit` says stop (true)
   * or the stream has nothing more; more than `limit` messages is an error (scan_limit).
   */
  private async scan(roomId: string, sinceMs: number, limit: number, visit: (seq: number, data: Uint8Array) => boolean): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, {
      filterSubjects: roomSubject(roomId, this.prefix),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Math.max(0, sinceMs)).toISOString(),
    });
    let scanned = 0;
    try {
      for (;;) {
        const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
        let got = 0;
        for await (const m of batch) {
          got += 1;
          scanned += 1;
          if (visit(m.seq, m.data) || m.info.pending === 0) return;
          if (scanned >= limit) {
            throw new ParleyError('DEPENDENCY_UNAVAILABLE', `stream tail of room ${roomId} is longer than ${scanned} messages`, { details: { reason: 'scan_limit' } });
          }
        }
        if (got === 0) return;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /** A message that is not a valid envelope is left out of the tail (undefined). */
  private convert(seq: number, data: Uint8Array): Backlogged | undefined {
    const hit = this.messages.lookup(seq, data, 0, data.length);
    if (hit !== MISS) return hit;
    let item: Backlogged | undefined;
    try {
      item = toBacklogged(decodeEnvelope(data, { maxBodyBytes: this.maxBodyBytes }));
    } catch {
      item = undefined;
    }
    this.messages.remember(seq, data, 0, data.length, item);
    return item;
  }
}
