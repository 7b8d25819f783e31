import { messageSchema, type FoundMessage } from '@parley/contracts';
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import { ParleyError } from '@parley/errors';
import type { SearchText } from './search-text.js';
import type { SortOrder } from './cursor.js';

export interface SearchRequest {
  /** One room; absent only for the mentions of a user across rooms (membership checked after). */
  roomId?: string | undefined;
  /** Absent: plain history (every message matching the filters). */
  text?: SearchText | undefined;
  senderId?: string | undefined;
  /** Only messages whose current body mentions this user. */
  mentionId?: string | undefined;
  /** Inclusive lower and exclusive upper bound on created_at, epoch ms. */
  fromMs?: number | undefined;
  toMs?: number | undefined;
  order: SortOrder;
  limit: number;
  /** Exclusive: the last id of the previous page. */
  afterId?: bigint | undefined;
}

/** Highlights: fragments of the body with matches wrapped in <mark>…</mark>, HTML-escaped. */
export type { FoundMessage };

export interface SearchPage {
  messages: FoundMessage[];
  hasMore: boolean;
}

export interface UnreadCount {
  messages: number;
  mentions: number;
}

/** History and full-text search over one room's messages. */
export interface MessageSearch {
  search(req: SearchRequest): Promise<SearchPage>;
  /**
   * Per room, the messages after the reader's mark (all of them without one) that are not the
   * reader's, not deleted; and those of them that mention the reader. One request for every room.
   */
  unread(readerId: string, rooms: ReadonlyArray<{ roomId: string; after?: bigint | undefined }>): Promise<Map<string, UnreadCount>>;
}

/** The message's own fields (the document also holds `seq`, for sorting, and the folded events). */
const SOURCE = Object.keys(messageSchema.shape);

/**
 * The Elasticsearch query for a request. User text only ever becomes `match` (words, all
 * required) and `match_phrase` (quoted phrases) on `body`: neither parses query syntax.
 * Sorting on `seq` alone is a total order (it is the unique id), so `search_after` pages
 * neither skip nor repeat, whatever is indexed in between.
 */
export function buildSearchBody(req: SearchRequest): Record<string, unknown> {
  const filter: unknown[] = req.roomId === undefined ? [] : [{ term: { room_id: req.roomId } }];
  if (req.senderId !== undefined) filter.push({ term: { sender_id: req.senderId } });
  if (req.mentionId !== undefined) filter.push({ term: { mentions: req.mentionId } });
  // A change whose message is not indexed yet is no message; a deleted one has no words.
  const mustNot: unknown[] = [{ term: { shell: true } }];
  if (req.text) mustNot.push({ exists: { field: 'deleted_at' } });
  if (req.fromMs !== undefined || req.toMs !== undefined) {
    filter.push({ range: { created_at: { ...(req.fromMs !== undefined ? { gte: req.fromMs } : {}), ...(req.toMs !== undefined ? { lt: req.toMs } : {}) } } });
  }
  const must: unknown[] = [];
  if (req.text) {
    if (req.text.words) must.push({ match: { body: { query: req.text.words, operator: 'and' } } });
    for (const phrase of req.text.phrases) must.push({ match_phrase: { body: { query: phrase } } });
  }
  return {
    size: req.limit + 1,
    track_total_hits: false,
    _source: SOURCE,
    query: { bool: { filter, must_not: mustNot, ...(must.length > 0 ? { must } : {}) } },
    sort: [{ seq: { order: req.order === 'newest' ? 'desc' : 'asc' } }],
    // A string keeps all 64 bits; ES parses it as the long it sorts on.
    ...(req.afterId !== undefined ? { search_after: [req.afterId.toString()] } : {}),
    ...(req.text
      ? {
          highlight: {
            encoder: 'html',
            pre_tags: ['<mark>'],
            post_tags: ['</mark>'],
            fields: { body: { number_of_fragments: 3, fragment_size: 150, no_match_size: 0 } },
          },
        }
      : {}),
  };
}

export class ElasticMessageSearch implements MessageSearch {
  constructor(
    private readonly client: Client,
    private readonly alias: string,
  ) {}

  async search(req: SearchRequest): Promise<SearchPage> {
    let res;
    try {
      res = await this.client.search<FoundMessage>({ index: this.alias, ...buildSearchBody(req) });
    } catch (err) {
      throw toSearchError(err);
    }
    const hits = res.hits.hits;
    const messages = hits.slice(0, req.limit).map((h) => {
      const m = { ...(h._source as FoundMessage) };
      if (req.text) m.highlights = h.highlight?.['body'] ?? [];
      return m;
    });
    return { messages, hasMore: hits.length > req.limit };
  }

  async unread(readerId: string, rooms: ReadonlyArray<{ roomId: string; after?: bigint | undefined }>): Promise<Map<string, UnreadCount>> {
    const out = new Map<string, UnreadCount>();
    if (rooms.length === 0) return out;
    let res;
    try {
      res = await this.client.search({ index: this.alias, ...buildUnreadBody(readerId, rooms) });
    } catch (err) {
      throw toSearchError(err);
    }
    const buckets = (res.aggregations?.['rooms'] as { buckets?: Record<string, { doc_count: number; mentions: { doc_count: number } }> } | undefined)?.buckets ?? {};
    rooms.forEach((r, i) => {
      const b = buckets[String(i)];
      out.set(r.roomId, { messages: b?.doc_count ?? 0, mentions: b?.mentions.doc_count ?? 0 });
    });
    return out;
  }
}

/** The unread query: one filter per room (after its mark), counted with its mentions of the reader. */
export function buildUnreadBody(readerId: string, rooms: ReadonlyArray<{ roomId: string; after?: bigint | undefined }>): Record<string, unknown> {
  const filters: Record<string, unknown> = {};
  rooms.forEach((r, i) => {
    const filter: unknown[] = [{ term: { room_id: r.roomId } }];
    // A string keeps all 64 bits; ES parses it as the long it compares.
    if (r.after !== undefined) filter.push({ range: { seq: { gt: r.after.toString() } } });
    filters[String(i)] = { bool: { filter } };
  });
  return {
    size: 0,
    track_total_hits: false,
    query: {
      bool: {
        filter: [{ terms: { room_id: [...new Set(rooms.map((r) => r.roomId))] } }],
        must_not: [{ term: { sender_id: readerId } }, { exists: { field: 'deleted_at' } }, { term: { shell: true } }],
      },
    },
    aggs: { rooms: { filters: { filters }, aggs: { mentions: { filter: { term: { mentions: readerId } } } } } },
  };
}

/** Our queries are built, not parsed, so any ES 4xx is our bug (INTERNAL); the rest is ES being away. */
function toSearchError(err: unknown): ParleyError {
  if (err instanceof errors.ResponseError && err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 429) {
    return new ParleyError('INTERNAL', `elasticsearch refused the query: ${err.message}`, { cause: err });
  }
  return new ParleyError('DEPENDENCY_UNAVAILABLE', 'search is unavailable', { cause: err });
}
