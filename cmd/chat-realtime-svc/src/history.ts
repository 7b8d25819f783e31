import { credentials, Metadata } from '@grpc/grpc-js';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import { ParleyError } from '@parley/errors';
import { chatV1, fromGrpcError } from '@parley/proto';
import { decodeEnvelope, encodeEnvelope, parseId, validateEnvelope, type Envelope } from '@parley/envelope';
import { roomSubject } from '@parley/nats';

/** One message ready for a frame: its id for merging, its canonical JSON for sending. */
export interface Backlogged {
  id: bigint;
  json: string;
}

export interface HistoryPage {
  messages: Backlogged[];
  hasMore: boolean;
}

/** The stored history of a room, as the caller is allowed to see it. */
export interface HistorySource {
  /** Oldest to newest; `afterId` asks for what came after it, otherwise the newest `limit`. */
  list(roomId: string, token: string, opts: { limit: number; afterId?: bigint }): Promise<HistoryPage>;
  close(): void;
}

const decoder = new TextDecoder();

export function toBacklogged(env: Envelope): Backlogged {
  return { id: BigInt(env.id), json: decoder.decode(encodeEnvelope(env)) };
}

/**
 * chat-query-svc over gRPC, on behalf of the joining user (their token goes along, so the query
 * service enforces membership itself). Rows that do not form a valid envelope are skipped rather
 * than failing the whole join.
 */
export class GrpcHistorySource implements HistorySource {
  private readonly client: chatV1.ChatQueryServiceClient;

  constructor(
    address: string,
    private readonly timeoutMs: number,
    private readonly maxBodyBytes: number,
  ) {
    this.client = new chatV1.ChatQueryServiceClient(address, credentials.createInsecure());
  }

  async list(roomId: string, token: string, opts: { limit: number; afterId?: bigint }): Promise<HistoryPage> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const req = { roomId, limit: opts.limit, beforeId: '', afterId: opts.afterId === undefined ? '' : opts.afterId.toString() };
    const res = await new Promise<chatV1.ListMessagesResponse>((resolve, reject) => {
      this.client.listMessages(req, md, { deadline: Date.now() + this.timeoutMs }, (err, r) => (err ? reject(fromGrpcError(err, 'chat-query-svc')) : resolve(r!)));
    });
    const messages: Backlogged[] = [];
    for (const m of res.messages) {
      try {
        const env = validateEnvelope(
          { v: 1, id: m.id, room_id: m.roomId, sender_id: m.senderId, sender_name: m.senderName, body: m.body, client_msg_id: m.clientMsgId, kind: m.kind, created_at: Number(m.createdAt) },
          { maxBodyBytes: this.maxBodyBytes },
        );
        messages.push(toBacklogged(env));
      } catch {
        // A row we cannot represent is left out; the rest of the history still helps.
      }
    }
    return { messages, hasMore: res.hasMore };
  }

  close(): void {
    this.client.close();
  }
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
const FETCH_EXPIRES_MS = 1000;
/** A join reads at most this many times `max` from the stream before giving up on the rest. */
const SCAN_FACTOR = 20;

/** The message stream as the RecentSource: direct get for the newest, an ordered consumer for the rest. */
export class JetStreamRecentSource implements RecentSource {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly prefix: string,
    private readonly maxBodyBytes: number,
  ) {}

  async newestId(roomId: string): Promise<bigint | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: roomSubject(roomId, this.prefix) });
      return parseId(decodeEnvelope(m.data, { maxBodyBytes: this.maxBodyBytes }).id);
    } catch (err) {
      if (/no message found|not found/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  async read(roomId: string, sinceMs: number, max: number, stop: (id: bigint) => boolean): Promise<RecentRead> {
    const consumer = await this.js.consumers.get(this.stream, {
      filterSubjects: roomSubject(roomId, this.prefix),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(sinceMs).toISOString(),
    });
    const out: Backlogged[] = [];
    let overflowed = false;
    let scanned = 0;
    const done = () => ({ messages: out, overflowed });
    try {
      for (;;) {
        const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
        let got = 0;
        for await (const m of batch) {
          got += 1;
          scanned += 1;
          let env: Envelope;
          try {
            env = decodeEnvelope(m.data, { maxBodyBytes: this.maxBodyBytes });
          } catch {
            continue;
          }
          const item = toBacklogged(env);
          if (stop(item.id)) return done();
          out.push(item);
          // A sliding window: the newest `max` before live frames begin are the ones that count.
          if (out.length > max) {
            out.shift();
            overflowed = true;
          }
          if (m.info.pending === 0) return done();
          if (scanned >= max * SCAN_FACTOR) throw new ParleyError('DEPENDENCY_UNAVAILABLE', `stream tail of room ${roomId} is longer than ${scanned} messages`);
        }
        if (got === 0) return done();
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }
}
