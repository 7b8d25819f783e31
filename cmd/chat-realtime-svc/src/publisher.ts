import { headers as natsHeaders, type JetStreamClient, type JetStreamManager, type MsgHdrs } from 'nats';
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
      js: JetStreamClient;
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
    const { js, jsm, stream, prefix, maxBodyBytes } = this.opts;
    const env = newEventEnvelope(this.opts.nextId(), event, { maxBodyBytes });
    const subject = roomSubject(env.room_id, prefix);
    const { tracer } = this.opts;
    const span = tracer && recordingSpan() ? startSpan(tracer, 'jetstream publish', SpanKind.PRODUCER, { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'parley.message_id': env.id, 'parley.kind': env.kind }) : undefined;
    let ack;
    try {
      ack = await js.publish(subject, encodeEnvelope(env), {
        msgID: publishMsgId(env.room_id, env.sender_id, env.client_msg_id),
        expect: { streamName: stream },
        timeout: this.opts.timeoutMs,
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
