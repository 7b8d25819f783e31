import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { JetStreamClient } from 'nats';
import type { ErasureReport, ErasureRequest } from '@parley/contracts';
import { encodeEnvelope, newEventEnvelope, Snowflake } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { publishMsgId, roomSubject } from '@parley/nats';

/** Who an erasure is logged as: not a user, so no user's retry keys or reads are touched. */
export const OPERATOR_ID = 'operator';
/** Rooms one erasure of a user may span (one event per room). */
const MAX_ROOMS = 10_000;

export interface ErasureDeps {
  es: Client;
  alias: string;
  js: () => JetStreamClient;
  stream: string;
  prefix: string;
  timeoutMs: number;
}

/**
 * An operator's erasure, logged like every other change: one `erase` event per room, on the
 * room's own subject, so it takes its place in the room's order and both projections apply it
 * (and remember it against replays, see the command workers). The rooms of a user come from
 * Elasticsearch (which holds every message ever indexed); the report counts what the stores held
 * when the erasure was logged. Messages still in flight in the pipeline precede the event in the
 * log and are erased with the rest.
 */
export class Erasures {
  /**
   * Ids of erase events are time-ordered like every event's; their instance bits are random:
   * an erase event is never a message row, so sharing an id with one harms nothing.
   */
  private readonly ids = new Snowflake({ instance: randomInt(1024) });

  constructor(private readonly deps: ErasureDeps) {}

  async erase(req: ErasureRequest): Promise<ErasureReport> {
    const counts = await this.rooms(req);
    const rooms: ErasureReport['rooms'] = [];
    for (const [roomId, messages] of counts) {
      const env = newEventEnvelope(this.ids.next(), {
        kind: 'erase',
        room_id: roomId,
        sender_id: OPERATOR_ID,
        sender_name: OPERATOR_ID,
        client_msg_id: `erase-${randomBytes(12).toString('hex')}`,
        ...(req.user_id === undefined ? {} : { erase_user_id: req.user_id }),
      });
      try {
        await this.deps.js().publish(roomSubject(roomId, this.deps.prefix), encodeEnvelope(env), {
          msgID: publishMsgId(roomId, OPERATOR_ID, env.client_msg_id),
          expect: { streamName: this.deps.stream },
          timeout: this.deps.timeoutMs,
        });
      } catch (err) {
        throw new ParleyError('DEPENDENCY_UNAVAILABLE', `could not log the erasure of room ${roomId}; ${rooms.length} room(s) were logged before it: repeat the call`, { cause: err });
      }
      rooms.push({ room_id: roomId, messages, event_id: env.id });
    }
    return { rooms, messages: rooms.reduce((n, r) => n + r.messages, 0) };
  }

  /** The rooms to erase and how many messages each holds now (of the user, or all). */
  private async rooms(req: ErasureRequest): Promise<Map<string, number>> {
    const filter: Array<Record<string, Record<string, string>>> = [];
    if (req.room_id !== undefined) filter.push({ term: { room_id: req.room_id } });
    if (req.user_id !== undefined) filter.push({ term: { sender_id: req.user_id } });
    let res;
    try {
      res = await this.deps.es.search({
        index: this.deps.alias,
        size: 0,
        query: { bool: { filter, must_not: [{ term: { shell: true } }] } },
        aggs: { rooms: { terms: { field: 'room_id', size: MAX_ROOMS } } },
      });
    } catch (err) {
      throw new ParleyError('DEPENDENCY_UNAVAILABLE', 'search is unavailable: the rooms to erase cannot be found', { cause: err });
    }
    const buckets = (res.aggregations?.['rooms'] as { buckets?: Array<{ key: string; doc_count: number }> } | undefined)?.buckets ?? [];
    const out = new Map(buckets.map((b) => [b.key, b.doc_count]));
    // A room named outright is erased even if search holds nothing of it yet.
    if (req.room_id !== undefined && !out.has(req.room_id)) out.set(req.room_id, 0);
    return out;
  }
}

/** Constant-time check of the operator's bearer token; no token configured: the API is off. */
export function isOperator(configured: string, header: string | undefined): boolean {
  if (!configured || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const want = Buffer.from(configured);
  return given.length === want.length && timingSafeEqual(given, want);
}
