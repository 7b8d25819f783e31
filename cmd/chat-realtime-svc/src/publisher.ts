import type { JetStreamClient, JetStreamManager } from 'nats';
import { ParleyError } from '@parley/errors';
import { decodeEnvelope, encodeEnvelope, newMessageEnvelope } from '@parley/envelope';
import { publishMsgId, roomSubject } from '@parley/nats';

export interface OutgoingMessage {
  roomId: string;
  senderId: string;
  senderName: string;
  clientMsgId: string;
  body: string;
}

/** Stores a message durably and says which id it has. */
export interface MessagePublisher {
  /** Resolves with the message id once stored; a retried client message id resolves with the original id. */
  publish(msg: OutgoingMessage): Promise<string>;
}

/**
 * JetStream as the durable store. The dedupe key is `<room>:<sender>:<client_msg_id>`, so a
 * retry within the stream's duplicate window is not stored twice; the PubAck of a duplicate
 * carries the sequence of the first copy, and its envelope gives the original id back. Ids
 * therefore need no side table and every edge answers a retry the same way.
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
    },
  ) {}

  async publish(msg: OutgoingMessage): Promise<string> {
    const { js, jsm, stream, prefix, maxBodyBytes } = this.opts;
    const env = newMessageEnvelope(
      this.opts.nextId(),
      { room_id: msg.roomId, sender_id: msg.senderId, sender_name: msg.senderName, body: msg.body, client_msg_id: msg.clientMsgId },
      { maxBodyBytes },
    );
    let ack;
    try {
      ack = await js.publish(roomSubject(msg.roomId, prefix), encodeEnvelope(env), {
        msgID: publishMsgId(msg.roomId, msg.senderId, msg.clientMsgId),
        expect: { streamName: stream },
        timeout: this.opts.timeoutMs,
      });
    } catch (err) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'message store unavailable; retry with the same client_msg_id', { cause: err });
    }
    if (!ack.duplicate) return env.id;
    try {
      const first = await jsm.streams.getMessage(stream, { seq: ack.seq });
      return decodeEnvelope(first.data, { maxBodyBytes }).id;
    } catch (err) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'could not read the original of a retried message; retry', { cause: err });
    }
  }
}
