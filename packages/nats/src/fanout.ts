import type { MsgHdrs } from 'nats';

/**
 * Fanout of stored messages to edges: the message stream republishes every message it stores,
 * from `<prefix>.room.<roomId>.<msg|upd>` to the core subject `<prefix>.fan.<roomId>.<msg|upd>`,
 * with headers naming its place in the stream:
 *
 *   Nats-Sequence        its stream sequence
 *   Nats-Last-Sequence   the sequence of the previous message on the same subject (0: none)
 *
 * An edge subscribes to the rooms it has sockets in and tells a lost message by the gap (see
 * RoomHub in chat-realtime-svc). Only the stream publishes there: no service user may.
 * The subjects: roomFanoutSubject and fanoutRepublish in subjects.ts.
 */
export interface FanoutPosition {
  seq: number;
  /** The subject's previous message's sequence; 0 when it had none. */
  previous: number;
}

/** The stream position a republished message carries, or undefined when it carries none. */
export function fanoutPosition(headers: MsgHdrs | undefined): FanoutPosition | undefined {
  if (!headers) return undefined;
  const seq = Number(headers.get('Nats-Sequence'));
  const previous = Number(headers.get('Nats-Last-Sequence') || '0');
  if (!Number.isSafeInteger(seq) || seq <= 0 || !Number.isSafeInteger(previous) || previous < 0) return undefined;
  return { seq, previous };
}
