/* global crypto, TextEncoder, setTimeout, clearTimeout */
import { api, ApiError, describeError } from './api.js';
import { h, toast, formatTime, compareIds } from './dom.js';
import { renderHighlight } from './highlight.js';
import { RoomSocket } from './room-socket.js';

const MAX_BODY_BYTES = 4096;
/** Unacknowledged sends on the wire; 1 while rate limited, so waiting costs one strike per try, not one per message. */
const MAX_IN_FLIGHT = 4;
const RETRYABLE = new Set(['rate_limited', 'too_many_in_flight', 'unavailable']);
const FIRST_PAUSE_MS = 2500;
const MAX_PAUSE_MS = 10_000;
const STATE_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', ended: 'offline' };
const ENDED_TEXT = {
  deleted: 'This room was deleted.',
  removed: 'You are no longer a member of this room.',
  protocol: 'The server closed the connection because of invalid frames. Reload the page.',
  'signed-out': 'Your session ended. Sign in again.',
};
const PENDING_TEXT = { sending: 'sending…', queued: 'waiting to send…', retrying: 'retrying…', failed: 'not sent' };

function newClientMsgId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `c${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The open room: messages sorted by id (history, live frames, scroll-back pages and own acks
 * all merge by id, so nothing shows twice), own messages pending until acknowledged, and a
 * socket that resumes from the newest id it received.
 */
export class RoomView {
  constructor(room, me, callbacks) {
    this.room = room;
    this.me = me;
    this.cb = callbacks;
    this.byId = new Map();
    this.ids = [];
    this.nodes = new Map();
    /** Own messages not yet acknowledged, in the order they were written (Map keeps insertion order). */
    this.pending = new Map();
    this.throttle = { until: 0, pauseMs: FIRST_PAUSE_MS, limited: false, timer: undefined };
    this.lastSeenId = undefined;
    this.older = { loading: false, done: true };
    this.ended = false;
    this.el = this.render();
    this.socket = new RoomSocket(room.id, {
      lastId: () => this.lastSeenId,
      onState: (s, d) => this.showState(s, d),
      onHistory: (f, lastId) => this.onHistory(f, lastId),
      onFrame: (f) => this.onFrame(f),
      onEnded: (reason) => this.onEnded(reason),
    });
    this.socket.start();
  }

  destroy() {
    this.socket.stop();
    clearTimeout(this.throttle.timer);
    this.el.remove();
  }

  render() {
    this.conn = h('span', { class: 'conn', 'data-state': 'connecting', 'aria-live': 'polite' }, 'connecting…');
    this.searchInput = h('input', { type: 'search', name: 'q', placeholder: 'Search this room', maxlength: 256, 'aria-label': 'Search this room' });
    const owner = this.room.role === 'owner';
    this.deleteBtn = owner ? h('button', { type: 'button', class: 'danger', onclick: () => this.confirmDelete() }, 'Delete room') : undefined;
    this.banner = h('div', { class: 'banner', role: 'alert', hidden: true });
    this.olderStatus = h('div', { class: 'older-status' });
    this.list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
    this.pendingList = h('ol', { class: 'messages pending-list' });
    this.scroller = h('div', { class: 'scroller', onscroll: () => this.maybeLoadOlder() }, this.olderStatus, this.list, this.pendingList);
    this.results = h('aside', { class: 'search-results', hidden: true, 'aria-label': 'Search results' });
    this.input = h('textarea', { rows: 2, placeholder: 'Write a message — Enter to send, Shift+Enter for a new line', 'aria-label': 'Message', onkeydown: (e) => this.onKey(e) });
    this.composerError = h('span', { class: 'composer-error', role: 'alert' });
    this.composer = h('form', { class: 'composer', onsubmit: (e) => (e.preventDefault(), this.submit()) }, this.input, h('button', { type: 'submit' }, 'Send'), this.composerError);
    return h(
      'section',
      { class: 'room', 'data-room-id': this.room.id },
      h(
        'header',
        { class: 'room-head' },
        h('h2', {}, this.room.name),
        this.conn,
        h('form', { class: 'search', role: 'search', onsubmit: (e) => (e.preventDefault(), this.search()) }, this.searchInput, h('button', { type: 'submit' }, 'Search')),
        this.deleteBtn,
      ),
      this.banner,
      h('div', { class: 'room-body' }, this.scroller, this.results),
      this.composer,
    );
  }

  showState(state, detail = {}) {
    this.conn.dataset.state = state;
    this.conn.textContent = state === 'reconnecting' && detail.inMs ? `reconnecting in ${Math.ceil(detail.inMs / 1000)} s…` : STATE_TEXT[state];
    if (state !== 'live') for (const [cid, p] of this.pending) if (p.state === 'sending') this.setPending(cid, 'queued');
  }

  onHistory(frame, resumedFrom) {
    if (frame.type === 'history_unavailable') {
      this.notice('History is unavailable right now; new messages still arrive.');
      if (this.ids.length === 0) this.older = { loading: false, done: false };
    } else {
      // More was missed than the edge replays: start over from the newest, scroll back for the rest.
      const restart = resumedFrom !== undefined && frame.has_more;
      if (restart) this.clearMessages();
      this.keepScroll(() => {
        for (const m of frame.messages) this.receive(m);
      }, true);
      if (resumedFrom === undefined || restart) this.older = { loading: false, done: !frame.has_more };
      if (resumedFrom === undefined) this.scrollToBottom();
    }
    this.pump();
    this.maybeLoadOlder();
  }

  onFrame(f) {
    if (f.type === 'message') this.keepScroll(() => this.receive(f.message), true);
    else if (f.type === 'ack') this.acked(f.client_msg_id, f.id);
    else if (f.type === 'error' && f.client_msg_id && this.pending.has(f.client_msg_id)) this.sendFailed(f.client_msg_id, f.code, f.message, f.retry_after_ms);
    else if (f.type === 'error') toast(f.message, 'error');
    else if (f.type === 'room_deleted') this.onEnded('deleted');
  }

  /** A message from the room's stream (history or live): the only source of the resume point. */
  receive(m) {
    if (!this.lastSeenId || compareIds(m.id, this.lastSeenId) > 0) this.lastSeenId = m.id;
    this.insert(m, false);
    if (m.sender_id === this.me.id && this.pending.has(m.client_msg_id)) this.delivered(m.client_msg_id);
  }

  insert(m, provisional) {
    const known = this.byId.get(m.id);
    if (known) {
      if (known.provisional && !provisional) {
        const node = this.messageNode(m, false);
        this.nodes.get(m.id).replaceWith(node);
        this.nodes.set(m.id, node);
        this.byId.set(m.id, { ...m, provisional: false });
      }
      return;
    }
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareIds(this.ids[mid], m.id) < 0) lo = mid + 1;
      else hi = mid;
    }
    const node = this.messageNode(m, provisional);
    this.list.insertBefore(node, lo < this.ids.length ? this.nodes.get(this.ids[lo]) : null);
    this.ids.splice(lo, 0, m.id);
    this.byId.set(m.id, { ...m, provisional });
    this.nodes.set(m.id, node);
  }

  messageNode(m, provisional) {
    const mine = m.sender_id === this.me.id;
    return h(
      'li',
      { class: `msg${mine ? ' mine' : ''}${provisional ? ' provisional' : ''}`, dataset: { id: m.id } },
      h('div', { class: 'meta' }, h('span', { class: 'author' }, m.sender_name), h('time', { datetime: new Date(m.created_at).toISOString() }, formatTime(m.created_at))),
      h('div', { class: 'body' }, m.body),
    );
  }

  clearMessages() {
    this.byId.clear();
    this.ids = [];
    this.nodes.clear();
    this.list.replaceChildren();
  }

  /** Runs `fn`, then keeps the view pinned to the bottom if it was, or where it was otherwise. */
  keepScroll(fn, appending) {
    const s = this.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 40;
    const fromBottom = s.scrollHeight - s.scrollTop;
    fn();
    if (appending && atBottom) s.scrollTop = s.scrollHeight;
    else if (!appending) s.scrollTop = s.scrollHeight - fromBottom;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  submit() {
    const body = this.input.value;
    this.composerError.textContent = '';
    if (this.ended || body.trim() === '') return;
    const size = new TextEncoder().encode(body).length;
    if (size > MAX_BODY_BYTES) {
      this.composerError.textContent = `Message is ${size} bytes; the limit is ${MAX_BODY_BYTES}.`;
      return;
    }
    const cid = newClientMsgId();
    const node = h('li', { class: 'msg mine pending', dataset: { cid } });
    this.pending.set(cid, { body, state: 'queued', node });
    this.setPending(cid, 'queued');
    this.pendingList.append(node);
    this.input.value = '';
    this.pump();
    this.scrollToBottom();
  }

  /**
   * Puts waiting messages on the wire in the order they were written, a few at a time. A retry
   * (after an error or a reconnect) reuses the client_msg_id, so the edge stores it once.
   */
  pump() {
    const t = this.throttle;
    clearTimeout(t.timer);
    const wait = t.until - Date.now();
    if (wait > 0) {
      t.timer = setTimeout(() => this.pump(), wait);
      return;
    }
    const cap = t.limited ? 1 : MAX_IN_FLIGHT;
    let inFlight = 0;
    for (const p of this.pending.values()) if (p.state === 'sending') inFlight += 1;
    for (const [cid, p] of this.pending) {
      if (inFlight >= cap) break;
      if (p.state !== 'queued' && p.state !== 'retrying') continue;
      if (!this.socket.send({ type: 'send', client_msg_id: cid, body: p.body })) return;
      this.setPending(cid, 'sending');
      inFlight += 1;
    }
  }

  setPending(cid, state, reason) {
    const p = this.pending.get(cid);
    if (!p) return;
    p.state = state;
    const status = h('span', { class: 'status' }, reason ? `${PENDING_TEXT[state]}: ${reason}` : PENDING_TEXT[state]);
    const discard = state === 'failed' ? h('button', { type: 'button', class: 'link', onclick: () => this.dropPending(cid) }, 'discard') : undefined;
    p.node.dataset.state = state;
    p.node.replaceChildren(h('div', { class: 'meta' }, h('span', { class: 'author' }, this.me.display_name), status, discard), h('div', { class: 'body' }, p.body));
  }

  dropPending(cid) {
    const p = this.pending.get(cid);
    if (!p) return;
    p.node.remove();
    this.pending.delete(cid);
  }

  /** The ack and the live echo of an own message race; whichever comes first settles it. */
  acked(cid, id) {
    const p = this.pending.get(cid);
    if (!p) return;
    this.keepScroll(() => this.insert({ id, room_id: this.room.id, sender_id: this.me.id, sender_name: this.me.display_name, body: p.body, client_msg_id: cid, created_at: Date.now() }, true), true);
    this.delivered(cid);
  }

  /** A stored message frees its slot on the wire and ends a rate-limit pause. */
  delivered(cid) {
    this.dropPending(cid);
    Object.assign(this.throttle, { limited: false, pauseMs: FIRST_PAUSE_MS });
    this.pump();
  }

  /** Retryable refusals pause every send, not just this one: the limit is per user, not per message. */
  sendFailed(cid, code, message, retryAfterMs) {
    if (!RETRYABLE.has(code)) {
      this.setPending(cid, 'failed', message);
      return this.pump();
    }
    const t = this.throttle;
    const limited = code !== 'unavailable';
    if (limited && !t.limited) toast('You are sending too fast; your messages will be retried.', 'warn');
    this.setPending(cid, 'retrying', limited ? 'rate limited' : 'server busy');
    t.limited ||= limited;
    // The edge says when its window resets; without that, back off by doubling.
    const wait = limited && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : limited ? t.pauseMs : 1000;
    t.until = Math.max(t.until, Date.now() + wait);
    if (limited && !Number.isFinite(retryAfterMs)) t.pauseMs = Math.min(MAX_PAUSE_MS, t.pauseMs * 2);
    this.pump();
  }

  onEnded(reason) {
    if (this.ended) return;
    this.ended = true;
    this.socket.stop();
    this.showState('ended');
    this.notice(ENDED_TEXT[reason] ?? 'Disconnected.');
    this.input.disabled = true;
    for (const cid of this.pending.keys()) this.setPending(cid, 'failed');
    if (reason === 'signed-out') this.cb.onSignedOut();
    else if (reason === 'deleted' || reason === 'removed') this.cb.onRoomGone(this.room.id);
  }

  notice(text) {
    this.banner.hidden = false;
    this.banner.textContent = text;
  }

  maybeLoadOlder() {
    const s = this.scroller;
    if (!this.older.done && !this.older.loading && s.scrollTop < 200) void this.loadOlder();
  }

  /**
   * The page just before the oldest message held, by id, from the store the edge's history
   * frame comes from: whatever lies below a message that store holds is there too (or still
   * reaches this page live), so scrolling back needs no re-checks. Search's index lags the
   * stream and serves search only.
   */
  async loadOlder() {
    const o = this.older;
    o.loading = true;
    this.olderStatus.textContent = 'Loading older messages…';
    try {
      const page = await api.older(this.room.id, this.ids[0]);
      if (this.older !== o) return;
      this.keepScroll(() => {
        for (const m of page.messages) this.insert(m, false);
      }, false);
      o.done = !page.has_more;
      this.olderStatus.textContent = o.done ? 'Beginning of the room.' : '';
    } catch (err) {
      this.olderStatus.textContent = `Could not load older messages: ${describeError(err)}`;
      if (err instanceof ApiError && err.status === 401) this.cb.onSignedOut();
      return;
    } finally {
      o.loading = false;
    }
    if (!o.done && this.scroller.scrollHeight <= this.scroller.clientHeight + 200) void this.loadOlder();
  }

  async search(cursor) {
    const text = this.searchInput.value.trim();
    if (!text) return this.results.setAttribute('hidden', '');
    this.results.hidden = false;
    if (!cursor) this.results.replaceChildren(h('p', { class: 'muted' }, 'Searching…'));
    try {
      const page = await api.search(this.room.id, text, cursor);
      if (!cursor) this.results.replaceChildren(h('header', {}, h('strong', {}, 'Results for “', text, '”'), h('button', { type: 'button', class: 'link', onclick: () => (this.results.hidden = true) }, 'close')), h('ol', { class: 'hits' }));
      const list = this.results.querySelector('ol.hits');
      this.results.querySelector('button.more')?.remove();
      for (const m of page.messages) list.append(this.hitNode(m));
      if (!cursor && page.messages.length === 0) list.append(h('li', { class: 'muted' }, 'No messages match.'));
      if (page.next_cursor) this.results.append(h('button', { type: 'button', class: 'more', onclick: () => this.search(page.next_cursor) }, 'More results'));
    } catch (err) {
      this.results.replaceChildren(h('p', { class: 'error' }, describeError(err)));
    }
  }

  hitNode(m) {
    const fragments = m.highlights?.length ? m.highlights.map((f) => h('div', { class: 'fragment' }, renderHighlight(f))) : [h('div', { class: 'fragment' }, m.body)];
    return h(
      'li',
      { class: 'hit', dataset: { id: m.id }, tabindex: 0, onclick: () => this.reveal(m.id) },
      h('div', { class: 'meta' }, h('span', { class: 'author' }, m.sender_name), h('time', {}, formatTime(m.created_at))),
      fragments,
    );
  }

  reveal(id) {
    const node = this.nodes.get(id);
    if (!node) return toast('That message is further back: scroll up to load it.');
    node.scrollIntoView({ block: 'center' });
    node.classList.add('flash');
    setTimeout(() => node.classList.remove('flash'), 1500);
  }

  confirmDelete() {
    if (this.deleteBtn.dataset.armed !== 'yes') {
      this.deleteBtn.dataset.armed = 'yes';
      this.deleteBtn.textContent = 'Really delete?';
      setTimeout(() => {
        this.deleteBtn.dataset.armed = '';
        this.deleteBtn.textContent = 'Delete room';
      }, 4000);
      return;
    }
    api.deleteRoom(this.room.id).then(
      () => this.onEnded('deleted'),
      (err) => toast(describeError(err), 'error'),
    );
  }
}
