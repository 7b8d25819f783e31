import { searchForm } from '@parley/contracts';
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import type { Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import type { MessageSink } from '@parley/pipeline';

/** What the bulk API reports per item; only the fields we sort on. */
interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string | null };
}

/**
 * Indexes envelopes through the write alias with one bulk request per batch. `_id` is the
 * message id, so a replayed record overwrites the same document (idempotent). No refresh
 * per request: a bulk that returned is durable in the translog, which is what committing the
 * Kafka offset needs; searchability follows within refresh_interval.
 *
 * `require_alias` makes a missing alias an item error instead of a silently created index
 * with a guessed mapping; that error is retried (the setup is wrong, not the record).
 */
export class ElasticMessageSink implements MessageSink {
  readonly name = 'elasticsearch';

  constructor(
    private readonly client: Client,
    private readonly alias: string,
  ) {}

  async write(envelopes: Envelope[]): Promise<Array<ParleyError | undefined>> {
    let res;
    try {
      res = await this.client.bulk({
        require_alias: true,
        operations: envelopes.flatMap((e) => [{ index: { _index: this.alias, _id: e.id } }, toDocument(e)]),
      });
    } catch (err) {
      throw wholeRequestError(err);
    }
    if (!res.errors) return envelopes.map(() => undefined);
    return res.items.map((item) => {
      const r = (item.index ?? Object.values(item)[0]) as BulkItem;
      return r.error ? itemError(r) : undefined;
    });
  }
}

/**
 * The document: the envelope's fields, plus the id as a number for sorting (sent as a string:
 * int64). The body is indexed in the search form (NFC) that queries are normalised to as well;
 * Cassandra keeps the body exactly as sent.
 */
export function toDocument(e: Envelope): Record<string, unknown> {
  return { ...e, body: searchForm(e.body), seq: e.id };
}

export function itemError(r: BulkItem): ParleyError {
  const detail = `${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`;
  const transient = r.status === 429 || r.status >= 500 || r.error?.type === 'index_not_found_exception';
  if (transient) return new ParleyError('DEPENDENCY_UNAVAILABLE', `elasticsearch item failed: ${detail}`);
  return new ParleyError('POISON_MESSAGE', `elasticsearch rejected the document: ${detail}`, { canRetry: false, details: { reason: 'store_rejected' } });
}

/**
 * A failed bulk request as a whole (connection refused, timeout, 429, 5xx, even 4xx) is
 * retried: nothing in it was judged per document, so skipping would lose good records.
 */
function wholeRequestError(err: unknown): ParleyError {
  const status = err instanceof errors.ResponseError ? err.statusCode : undefined;
  return new ParleyError('DEPENDENCY_UNAVAILABLE', `elasticsearch bulk failed${status ? ` (${status})` : ''}: ${(err as Error).message}`, { cause: err });
}
