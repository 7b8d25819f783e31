import { searchForm, type ChangeEvent, type EraseEvent, type MessageEvent } from '@parley/contracts';
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import type { Envelope } from '@parley/envelope';
import { ParleyError } from '@parley/errors';
import { ErasureRegistry, type MessageSink } from '@parley/pipeline';

/** What the bulk API reports per item; only the fields we sort on. */
interface BulkItem {
  status: number;
  error?: { type?: string; reason?: string | null };
}

/** Documents found and deleted per round of an erasure. */
const ERASE_PAGE = 1000;

/** A message's document as the sink folds events into it (mapping: @parley/migrate elastic.ts). */
export type MessageDocument = Record<string, unknown> & { id: string; room_id: string };
interface FoldedEdit {
  id: string;
  by: string;
  body: string;
  mentions: string[];
  at: number;
}
interface FoldedDelete {
  id: string;
  by: string;
  owner: boolean;
  at: number;
}
type Foldable = MessageEvent | Exclude<ChangeEvent, { kind: 'reaction' }>;

const byId = (a: { id: string }, b: { id: string }) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

/**
 * Folds one event into its message's document and recomputes what readers see from the events
 * the document keeps, so the result does not depend on the order events arrive in and a replayed
 * one changes nothing. The rules are the Cassandra projection's (@parley/message-store
 * state.ts): only the author's edits count and the newest is the body; a delete counts for the
 * author or with the owner flag and empties the text; a document without a sender is a shell
 * (a change that came before its message) and is never shown. Pure: returns a new document.
 */
export function foldEvent(doc: MessageDocument | undefined, e: Foldable): MessageDocument {
  const target = e.kind === 'message' ? e.id : e.target_id;
  const d: MessageDocument = doc ? structuredClone(doc) : { id: target, seq: target, room_id: e.room_id, shell: true };
  if (e.kind === 'message') {
    Object.assign(d, toDocument(e));
    delete d['shell'];
  } else if (e.kind === 'edit') {
    const edits = (d['edits'] as FoldedEdit[] | undefined) ?? [];
    if (!edits.some((x) => x.id === e.id)) edits.push({ id: e.id, by: e.sender_id, body: searchForm(e.body), mentions: e.mentions ?? [], at: e.created_at });
    d['edits'] = edits.sort(byId);
  } else {
    const deletes = (d['deletes'] as FoldedDelete[] | undefined) ?? [];
    if (!deletes.some((x) => x.id === e.id)) deletes.push({ id: e.id, by: e.sender_id, owner: e.by_owner === true, at: e.created_at });
    d['deletes'] = deletes.sort(byId);
  }
  return recompute(d);
}

function recompute(d: MessageDocument): MessageDocument {
  const sender = d['sender_id'];
  if (typeof sender !== 'string') return d;
  const edits = ((d['edits'] as FoldedEdit[] | undefined) ?? []).filter((x) => x.by === sender);
  const deleted = ((d['deletes'] as FoldedDelete[] | undefined) ?? []).find((x) => x.by === sender || x.owner);
  const last = edits.at(-1);
  d['version'] = 1 + edits.length;
  d['body'] = last ? last.body : d['original_body'];
  if (last) {
    d['edited_at'] = last.at;
    if (last.mentions.length > 0) d['mentions'] = last.mentions;
    else delete d['mentions'];
  } else {
    delete d['edited_at'];
    if (d['original_mentions'] !== undefined) d['mentions'] = d['original_mentions'];
    else delete d['mentions'];
  }
  if (deleted) {
    d['deleted_at'] = deleted.at;
    d['body'] = '';
    d['original_body'] = '';
    delete d['mentions'];
    delete d['original_mentions'];
    for (const x of (d['edits'] as FoldedEdit[] | undefined) ?? []) {
      x.body = '';
      x.mentions = [];
    }
  }
  return d;
}

interface Held {
  doc: MessageDocument | undefined;
  seqNo?: number;
  primaryTerm?: number;
  changed: boolean;
  events: number[];
  /** Not read: taken to be new (see foldRound). */
  guessed: boolean;
}

/**
 * Projects the log into Elasticsearch through the write alias, one batch at a time (cut at
 * erasures, which run as a delete-by-query between the events before and after). `_id` is the
 * message id. Each batch reads the documents its events touch (one mget), folds the events into
 * them in log order (foldEvent) and writes the changed ones back in one bulk request: `create`
 * for a new document, `index` guarded by its sequence number for an existing one, so a replay
 * or a change arriving before its message folds in instead of overwriting, and a concurrent
 * writer (a rebalance) makes the batch retry rather than lose an event. Reactions are not
 * searchable and live in Cassandra only.
 *
 * No refresh per request: a bulk that returned is durable in the translog, which is what
 * committing the Kafka offset needs; searchability follows within refresh_interval.
 * `require_alias` makes a missing alias an item error instead of a silently created index
 * with a guessed mapping; that error is retried (the setup is wrong, not the record).
 */
export class ElasticMessageSink implements MessageSink {
  readonly name = 'elasticsearch';
  private readonly erasures = new ErasureRegistry();

  private readonly refresher: Refresher | undefined;

  /** `refreshMs` > 0: written documents are made searchable within about that (see Refresher). */
  constructor(
    private readonly client: Client,
    private readonly alias: string,
    private readonly erasuresIndex?: string,
    refreshMs = 0,
  ) {
    this.refresher = refreshMs > 0 ? new Refresher(() => client.indices.refresh({ index: alias }).then(() => undefined), refreshMs) : undefined;
  }

  /** Stops the refresh timer (a refresh in flight finishes on its own). */
  close(): void {
    this.refresher?.close();
  }

  async write(envelopes: Envelope[]): Promise<Array<ParleyError | undefined>> {
    const results: Array<ParleyError | undefined> = envelopes.map(() => undefined);
    try {
      await this.loadErasures();
    } catch (err) {
      throw wholeRequestError(err);
    }
    let start = 0;
    for (let i = 0; i <= envelopes.length; i++) {
      const e = envelopes[i];
      if (e !== undefined && e.kind !== 'erase') continue;
      await this.fold(envelopes, [...envelopes.keys()].slice(start, i), results);
      if (e !== undefined) {
        // Events after the erasure wait for it: a later failure of theirs is retried after it.
        try {
          await this.erase(e);
        } catch (err) {
          const failed = wholeRequestError(err);
          for (let k = i; k < envelopes.length; k++) results[k] = failed;
          return results;
        }
      }
      start = i + 1;
    }
    return results;
  }

  private async fold(envelopes: Envelope[], indexes: number[], results: Array<ParleyError | undefined>): Promise<void> {
    const relevant = indexes.filter((i) => {
      const e = envelopes[i]!;
      return (e.kind === 'message' || e.kind === 'edit' || e.kind === 'delete') && !this.erasures.covers(e);
    });
    const conflicted = await this.foldRound(envelopes, relevant, results, true);
    if (conflicted.length > 0) await this.foldRound(envelopes, conflicted, results, false);
  }

  /**
   * Reads, folds and writes back the documents the events touch. `optimistic`: a document
   * whose first event here is its message is taken to be new (the usual case) and folded from
   * nothing without reading it; its `create` fails with 409 if it exists after all (a replay,
   * a change that came first), and the events of such documents are returned, to go through a
   * round that reads them. Either way a document is only ever created or rewritten at the
   * sequence number it was read at.
   */
  private async foldRound(envelopes: Envelope[], relevant: number[], results: Array<ParleyError | undefined>, optimistic: boolean): Promise<number[]> {
    const held = new Map<string, Held>();
    const toRead: string[] = [];
    for (const i of relevant) {
      const e = envelopes[i] as Foldable;
      const id = e.kind === 'message' ? e.id : e.target_id;
      if (held.has(id)) continue;
      const guessed = optimistic && e.kind === 'message';
      held.set(id, { doc: undefined, changed: false, events: [], guessed });
      if (!guessed) toRead.push(id);
    }
    if (held.size === 0) return [];
    if (toRead.length > 0) await this.read(held, toRead);
    for (const i of relevant) {
      const e = envelopes[i] as Foldable;
      const h = held.get(e.kind === 'message' ? e.id : e.target_id)!;
      const next = foldEvent(h.doc, e);
      if (JSON.stringify(next) !== JSON.stringify(h.doc)) {
        h.doc = next;
        h.changed = true;
      }
      h.events.push(i);
    }
    const dirty = [...held.entries()].filter(([, h]) => h.changed);
    if (dirty.length === 0) return [];
    let res;
    try {
      res = await this.client.bulk({
        require_alias: true,
        operations: dirty.flatMap(([id, h]) => [
          h.seqNo === undefined ? { create: { _index: this.alias, _id: id } } : { index: { _index: this.alias, _id: id, if_seq_no: h.seqNo, if_primary_term: h.primaryTerm } },
          h.doc!,
        ]),
      });
    } catch (err) {
      throw wholeRequestError(err);
    }
    const conflicted: number[] = [];
    res.items.forEach((item, k) => {
      const r = Object.values(item)[0] as BulkItem;
      const h = dirty[k]![1];
      if (!r.error) return;
      if (h.guessed && r.status === 409) conflicted.push(...h.events);
      else for (const i of h.events) results[i] = itemError(r);
    });
    this.refresher?.wrote();
    return conflicted.sort((a, b) => a - b);
  }

  /** The current documents of `held`, with the sequence numbers that guard their rewrite. */
  private async read(held: Map<string, Held>, ids: string[]): Promise<void> {
    let res;
    try {
      res = await this.client.mget<MessageDocument>({ index: this.alias, ids });
    } catch (err) {
      throw wholeRequestError(err);
    }
    for (const d of res.docs) {
      if (!('found' in d) || !d.found) continue;
      const h = held.get(d._id)!;
      h.doc = d._source;
      h.seqNo = d._seq_no;
      h.primaryTerm = d._primary_term;
    }
  }

/** Removes what the erasure covers and remembers it, so a replay of older events is skipped. */
  private async erase(e: EraseEvent): Promise<void> {
    const who = e.erase_user_id ?? '*';
    if (this.erasuresIndex) {
      await this.client.index({ index: this.erasuresIndex, id: `${e.room_id}:${who}`, document: { room_id: e.room_id, user_id: who, up_to: e.id }, refresh: true });
    }
    this.erasures.remember({ roomId: e.room_id, userId: who, upTo: BigInt(e.id) });
    // Everything of theirs indexed by now: the log put it before the erasure, whatever its id.
    const filter: Array<Record<string, Record<string, unknown>>> = [{ term: { room_id: e.room_id } }];
    if (who !== '*') filter.push({ term: { sender_id: who } });
    // Delete-by-query lives in a module not every deployment has: search and bulk-delete instead,
    // after a refresh so that every document indexed so far is seen.
    await this.client.indices.refresh({ index: this.alias });
    let after: string | undefined;
    for (;;) {
      const page = await this.client.search({
        index: this.alias,
        size: ERASE_PAGE,
        _source: false,
        query: { bool: { filter } },
        // The keyword id pages exactly (a long sort value past 2^53 would not survive JSON).
        sort: [{ id: 'asc' }],
        ...(after === undefined ? {} : { search_after: [after] }),
      });
      const hits = page.hits.hits;
      if (hits.length === 0) return;
      const res = await this.client.bulk({ operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id! } })) });
      const failed = res.items.find((i) => i.delete?.error && i.delete.status !== 404);
      if (failed) throw new ParleyError('DEPENDENCY_UNAVAILABLE', `elasticsearch did not erase ${failed.delete?._id}: ${failed.delete?.error?.reason ?? ''}`);
      after = String(hits.at(-1)!.sort![0]);
      if (hits.length < ERASE_PAGE) return;
    }
  }

  private async loadErasures(): Promise<void> {
    if (!this.erasuresIndex || !this.erasures.stale()) return;
    if (!(await this.client.indices.exists({ index: this.erasuresIndex }))) return this.erasures.replace([]);
    const res = await this.client.search<{ room_id: string; user_id: string; up_to: string | number }>({ index: this.erasuresIndex, size: 10_000, query: { match_all: {} } });
    this.erasures.replace((res.hits.hits ?? []).map((h) => ({ roomId: h._source!.room_id, userId: h._source!.user_id, upTo: BigInt(h._source!.up_to) })));
  }
}

/**
 * Makes written documents searchable sooner than the index's refresh_interval: after a bulk, a
 * refresh of the alias is asked for at most once per `intervalMs` (one in flight at a time,
 * writes in between share it). Searchability is not part of what an offset commit waits for (a
 * bulk that returned is durable in the translog), so a failed refresh is only a delay: the
 * index's own refresh follows within its interval.
 */
export class Refresher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private last = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Documents were written: refresh within about `intervalMs`. */
  wrote(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.fire(), wait);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    this.last = this.now();
    this.running = this.refresh()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wrote();
        }
      });
  }
}

/**
 * The document of a message: its event's fields, the body in the search form (NFC) that
 * queries are normalised to as well (Cassandra keeps it exactly as sent), the id as a number
 * for sorting (sent as a string: int64), and what an edit falls back to.
 */
export function toDocument(e: MessageEvent): Record<string, unknown> {
  const body = searchForm(e.body);
  return { ...e, body, original_body: body, ...(e.mentions ? { original_mentions: e.mentions } : {}), version: 1, seq: e.id };
}

export function itemError(r: BulkItem): ParleyError {
  const detail = `${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`;
  const transient = r.status === 429 || r.status >= 500 || r.error?.type === 'index_not_found_exception' || r.status === 409;
  if (transient) return new ParleyError('DEPENDENCY_UNAVAILABLE', `elasticsearch item failed: ${detail}`);
  return new ParleyError('POISON_MESSAGE', `elasticsearch rejected the document: ${detail}`, { canRetry: false, details: { reason: 'store_rejected' } });
}

/**
 * A failed bulk request as a whole (connection refused, timeout, 429, 5xx, even 4xx) is
 * retried: nothing in it was judged per document, so skipping would lose good records.
 */
function wholeRequestError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  const status = err instanceof errors.ResponseError ? err.statusCode : undefined;
  return new ParleyError('DEPENDENCY_UNAVAILABLE', `elasticsearch bulk failed${status ? ` (${status})` : ''}: ${(err as Error).message}`, { cause: err });
}
