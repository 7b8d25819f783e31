import { createInbox, headers as natsHeaders, type JetStreamManager, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import { ParleyError } from '@parley/errors';
import { decodeEnvelope, encodeEnvelope, newEventEnvelope, type EventKind, type NewEvent } from '@parley/envelope';
import { publishMsgId, roomSubject } from '@parley/nats';
import { endSpan, recordingSpan, SpanKind, startSpan, traceHeaders, type Span, type Tracer } from '@parley/tracing';

export interface OutgoingMessage {
  roomId: string;
  senderId: string;
  senderName: string;
  clientMsgId: string;
  body: string;
  replyTo?: string;
  mentions?: string[];
}

/** Stores a message, or a change of one, durably and says which id it has. */
export interface MessagePublisher {
  /** Resolves with the message id once stored; a retried client message id resolves with the original id. */
  publish(msg: OutgoingMessage): Promise<string>;
  /**
   * Any event of the room's log (an edit, a delete, a reaction); resolves with its id, or for a
   * retry with the id and kind the client_msg_id was first logged with.
   */
  publishEvent(event: NewEvent): Promise<{ id: string; kind: EventKind }>;
}

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

interface Waiter {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

const text = new TextDecoder();
/** How often publishes past their deadline are failed. */
const SWEEP_MS = 100;

/**
 * JetStream publishes whose PubAcks come back on one subscription of this edge's inbox, told
 * apart by the last token of the reply subject, instead of one request each: nats.js builds an
 * error with a stack trace for every request it completes and arms a timer per request, which
 * together were the largest part of the NATS client's CPU per send. A publish is the same on the
 * wire (Nats-Msg-Id for the stream's dedupe, Nats-Expected-Stream), so the stream treats it the
 * same; one sweep fails those whose PubAck did not come within their timeout.
 */
export class PubAckInbox {
  private readonly waiting = new Map<string, Waiter>();
  private readonly prefix: string;
  private next = 0;
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    /** The connection's inbox prefix (its NATS user may subscribe only there). */
    inboxPrefix: string | undefined,
  ) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (err, m) => (err ? this.failAll(err) : this.onReply(m)) });
    this.sweep = setInterval(() => this.expire(Date.now()), SWEEP_MS);
    this.sweep.unref();
  }

  publish(subject: string, data: Uint8Array, opts: { msgId: string; stream: string; timeoutMs: number; headers?: MsgHdrs }): Promise<PubAck> {
    const h = opts.headers ?? natsHeaders();
    h.set('Nats-Msg-Id', opts.msgId);
    h.set('Nats-Expected-Stream', opts.stream);
    const token = (this.next++).toString(36);
    return new Promise<PubAck>((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: Date.now() + opts.timeoutMs });
      try {
        this.nc.publish(subject, data, { reply: this.prefix + token, headers: h });
      } catch (err) {
        this.waiting.delete(token);
        reject(err as Error);
      }
    });
  }

  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    this.failAll(new Error('publisher closed'));
  }

  private onReply(m: Msg): void {
    const token = m.subject.slice(this.prefix.length);
    const w = this.waiting.get(token);
    if (!w) return;
    this.waiting.delete(token);
    // A status reply (503: no stream took the subject) has no JSON body.
    if (m.headers?.hasError) return w.reject(new Error(`no PubAck: ${m.headers.code} ${m.headers.description}`));
    let r: { stream?: string; seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      r = JSON.parse(text.decode(m.data)) as typeof r;
    } catch (err) {
      return w.reject(err as Error);
    }
    if (r.error) return w.reject(Object.assign(new Error(`JetStream refused the publish: ${r.error.description ?? r.error.code}`), { api_error: r.error }));
    if (!r.stream || typeof r.seq !== 'number') return w.reject(new Error('invalid PubAck'));
    w.resolve({ stream: r.stream, seq: r.seq, duplicate: r.duplicate === true });
  }

  private expire(now: number): void {
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) continue;
      this.waiting.delete(token);
      w.reject(new Error('PubAck timed out'));
    }
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}

/**
 * JetStream as the durable store, for every kind of event. The dedupe key is `<room>:<sender>:<client_msg_id>`, so a
 * retry within the stream's duplicate window is not stored twice; the PubAck of a duplicate
 * carries the sequence of the first copy, and its envelope gives the original id back. Ids
 * therefore need no side table and every edge answers a retry the same way.
 *
 * Traced (the command's span is recording), the publish is a PRODUCER span under it, and its
 * `traceparent` travels in the message's NATS headers beside Nats-Msg-Id: ingestion and every
 * edge's fanout continue it. An unsampled message carries no trace header.
 */
export class JetStreamMessagePublisher implements MessagePublisher {
  constructor(
    private readonly opts: {
      acks: PubAckInbox;
      jsm: JetStreamManager;
      stream: string;
      prefix: string;
      maxBodyBytes: number;
      nextId: () => bigint;
      timeoutMs: number;
      tracer?: Tracer | undefined;
    },
  ) {}

  async publish(msg: OutgoingMessage): Promise<string> {
    const logged = await this.publishEvent({
      kind: 'message',
      room_id: msg.roomId,
      sender_id: msg.senderId,
      sender_name: msg.senderName,
      body: msg.body,
      client_msg_id: msg.clientMsgId,
      ...(msg.replyTo === undefined ? {} : { reply_to: msg.replyTo }),
      ...(msg.mentions === undefined || msg.mentions.length === 0 ? {} : { mentions: msg.mentions }),
    });
    return logged.id;
  }

  async publishEvent(event: NewEvent): Promise<{ id: string; kind: EventKind }> {
    const { acks, jsm, stream, prefix, maxBodyBytes } = this.opts;
    const env = newEventEnvelope(this.opts.nextId(), event, { maxBodyBytes });
    const subject = roomSubject(env.room_id, prefix);
    const { tracer } = this.opts;
    const span = tracer && recordingSpan() ? startSpan(tracer, 'jetstream publish', SpanKind.PRODUCER, { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'parley.message_id': env.id, 'parley.kind': env.kind }) : undefined;
    let ack;
    try {
      ack = await acks.publish(subject, encodeEnvelope(env), {
        msgId: publishMsgId(env.room_id, env.sender_id, env.client_msg_id),
        stream,
        timeoutMs: this.opts.timeoutMs,
        ...(span ? { headers: headersOf(span) } : {}),
      });
    } catch (err) {
      if (span) endSpan(span, err);
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'message store unavailable; retry with the same client_msg_id', { cause: err });
    }
    if (span) {
      span.setAttributes({ 'parley.stream_seq': ack.seq, 'parley.duplicate': ack.duplicate });
      span.end();
    }
    if (!ack.duplicate) return { id: env.id, kind: env.kind };
    try {
      const first = decodeEnvelope((await jsm.streams.getMessage(stream, { seq: ack.seq })).data, { maxBodyBytes });
      return { id: first.id, kind: first.kind };
    } catch (err) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'could not read the original of a retried message; retry', { cause: err });
    }
  }
}

function headersOf(span: Span): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(traceHeaders(span))) h.set(k, v);
  return h;
}
