import {
  CommandError,
  RoomSocket,
  SendError,
  checkBody,
  isDeleted,
  reactedWith,
  refusalFromRest,
  type ConnectionState,
  type EndReason,
  type Message,
  type PendingState,
  type Room,
  type User,
} from '@parley/client';
import { describeError, isStatus, rest, wsBase } from './api.js';
import { AwarenessModel } from './awareness-model.js';
import { ThreadModel } from './thread-model.js';
import { Timeline } from './timeline.js';
import { toast } from './toast.js';

/** How a change moves the view: new messages below, older ones above, or to the newest. */
export type ScrollKind = 'none' | 'append' | 'prepend' | 'bottom';

export interface PendingView {
  clientMsgId: string;
  body: string;
  state: PendingState;
  /** Why it waits or failed, for people. */
  note?: string;
}

export interface ModelHooks {
  changed(kind: ScrollKind): void;
  signedOut(): void;
  roomGone(): void;
  /** The edge's count of the reader's unread messages here. */
  unread(counts: { messages: number; mentions: number }): void;
  /** A live message arrived while the page was hidden. */
  unseen(m: Message): void;
}

const MAX_BODY_BYTES = 4096;
const ENDED_TEXT: Record<EndReason, string> = {
  deleted: 'This room was deleted.',
  removed: 'You are no longer a member of this room.',
  protocol: 'The server closed the connection because of invalid frames. Reload the page.',
  session_ended: 'Your session ended. Sign in again.',
  closed: 'Disconnected.',
};
const WAIT_NOTE: Record<string, string> = { rate_limited: 'rate limited', too_many_in_flight: 'rate limited', unavailable: 'server busy' };
/** What a refused edit, delete or reaction tells the reader. */
const REFUSED_TEXT: Record<string, string> = {
  not_author: 'Only the author can edit a message.',
  not_allowed: "Only the author or the room's owner can delete a message.",
  message_deleted: 'That message was deleted.',
  message_not_found: 'That message is not there (any more).',
  reply_not_found: 'The message you answered is not there (any more).',
  too_many_reactions: 'That message has as many different reactions as it can take.',
};

/**
 * The open room, without the DOM: the messages by id, own messages until acknowledged, the
 * connection's state and the scroll-back paging. The socket (@parley/client's RoomSocket) does the
 * protocol: resume from the newest id received, repeats dropped, sends queued and resent with
 * their client_msg_id, rate limits waited out, close codes obeyed.
 */
export class RoomModel {
  readonly timeline = new Timeline();
  readonly pending = new Map<string, PendingView>();
  conn: { state: ConnectionState; inMs?: number } = { state: 'connecting' };
  banner: string | undefined;
  older = { loading: false, done: true, status: '', paused: false };
  ended = false;
  /** The message the composer answers. */
  replyTo: Message | undefined;
  /** The thread shown beside the room. */
  thread: ThreadModel | undefined;
  private readonly socket: RoomSocket;
  /** Presence, typing and read marks of the room. */
  readonly awareness: AwarenessModel;
  private readonly edgeText = new Map<string, string>();
  /** Bumped when the view restarts, so a page of older messages for the old view is dropped. */
  private generation = 0;

  constructor(
    readonly room: Room,
    readonly me: User,
    private readonly hooks: ModelHooks,
  ) {
    this.socket = new RoomSocket({ roomId: room.id, url: wsBase, selfId: me.id, explainRefusal: refusalFromRest(rest, room.id) });
    this.wire();
    this.awareness = new AwarenessModel(this.socket, me, () => ({ newestId: this.timeline.newestId, mineLatest: this.latestMine() }), {
      changed: () => hooks.changed('none'),
      unread: (c) => hooks.unread(c),
      unseen: (m) => hooks.unseen(m),
    });
  }

  /** The reader's newest stored message that is not deleted, the one read markers are shown on. */
  latestMine(): Message | undefined {
    const all = this.timeline.entries();
    for (let i = all.length - 1; i >= 0; i--) {
      const e = all[i]!;
      if (e.message.sender_id === this.me.id && !e.provisional && !isDeleted(e.message)) return e.message;
    }
    return undefined;
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.ended = true;
    this.awareness.stop();
    this.socket.stop();
  }

  private wire(): void {
    const s = this.socket;
    s.on('state', (e) => {
      this.conn = { state: e.state, ...(e.inMs !== undefined ? { inMs: e.inMs } : {}) };
      this.hooks.changed('none');
    });
    s.on('history', (h) => {
      // More was missed than the edge replays: start over from the newest, scroll back for the rest.
      if (h.gap) this.restart();
      for (const m of h.messages) this.timeline.insert(m);
      if (!h.resumed || h.gap) this.older = { loading: false, done: !h.hasMore, status: '', paused: false };
      this.hooks.changed(h.resumed && !h.gap ? 'append' : 'bottom');
    });
    s.on('history_unavailable', () => {
      this.banner = 'History is unavailable right now; new messages still arrive.';
      if (this.timeline.size === 0) this.older = { loading: false, done: false, status: '', paused: false };
      this.hooks.changed('none');
    });
    s.on('message', (m) => {
      const inThread = this.thread?.offer(m) ?? false;
      if (this.timeline.insert(m) || inThread) this.hooks.changed('append');
    });
    s.on('message_updated', (m) => {
      const inThread = this.thread?.offer(m) ?? false;
      if (this.timeline.update(m) || inThread) this.hooks.changed('none');
    });
    s.on('ack', (a) => {
      this.pending.delete(a.clientMsgId);
      const me = this.me;
      this.timeline.insert({ v: 1, id: a.id, room_id: this.room.id, sender_id: me.id, sender_name: me.display_name, body: a.body, client_msg_id: a.clientMsgId, kind: 'message', created_at: Date.now() }, true);
      this.hooks.changed('append');
    });
    s.on('pending', (p) => {
      const note = p.state === 'failed' ? (this.edgeText.get(p.clientMsgId) ?? undefined) : p.state === 'retrying' ? WAIT_NOTE[p.reason ?? ''] : undefined;
      this.pending.set(p.clientMsgId, { clientMsgId: p.clientMsgId, body: p.body, state: p.state, ...(note ? { note } : {}) });
      this.hooks.changed('append');
    });
    s.on('rate_limited', () => toast('You are sending too fast; your messages will be retried.', 'warn'));
    s.on('error', (f) => {
      if (f.client_msg_id) this.edgeText.set(f.client_msg_id, f.message);
      else toast(f.message, 'error');
    });
    s.on('room_deleted', () => this.end('deleted'));
    s.on('closed', (c) => this.end(c.reason));
  }

  private restart(): void {
    this.timeline.clear();
    this.generation++;
  }

  /** The composer's text (a reply when `replyTo` is set); a message for the composer when it cannot be sent. */
  send(body: string, replyTo = this.replyTo?.id): string | undefined {
    if (this.ended || body.trim() === '') return undefined;
    const problem = bodyProblem(body);
    if (problem) return problem;
    try {
      this.socket.send(body, { replyTo });
    } catch (err) {
      if (err instanceof SendError) return err.message;
      throw err;
    }
    if (replyTo === this.replyTo?.id) this.replyTo = undefined;
    this.hooks.changed('bottom');
    return undefined;
  }

  /** Replaces the body of an own message; a message for the editor when it cannot. */
  async edit(id: string, body: string): Promise<string | undefined> {
    const problem = bodyProblem(body);
    if (problem) return problem;
    return this.command(this.socket.edit(id, body));
  }

  async remove(id: string): Promise<void> {
    const problem = await this.command(this.socket.delete(id));
    if (problem) toast(problem, 'error');
  }

  /** Adds the reader's reaction, or takes it back when it is there. */
  async toggleReaction(m: Message, emoji: string): Promise<void> {
    const problem = await this.command(this.socket.react(m.id, emoji, !reactedWith(m, emoji)));
    if (problem) toast(problem, 'error');
  }

  answer(m: Message | undefined): void {
    this.replyTo = m;
    this.hooks.changed('none');
  }

  openThread(id: string | undefined): void {
    this.thread = id ? new ThreadModel(this.room.id, id, () => this.hooks.changed('none')) : undefined;
    void this.thread?.more();
    this.hooks.changed('none');
  }

  /** Waits for the ack; the new state arrives as message_updated. */
  private async command(ack: Promise<string>): Promise<string | undefined> {
    try {
      await ack;
      return undefined;
    } catch (err) {
      if (err instanceof CommandError) return REFUSED_TEXT[err.code] ?? err.message;
      if (err instanceof SendError) return err.message;
      throw err;
    }
  }

  discard(clientMsgId: string): void {
    if (this.pending.get(clientMsgId)?.state !== 'failed') return;
    this.pending.delete(clientMsgId);
    this.hooks.changed('none');
  }

  async deleteRoom(): Promise<void> {
    try {
      await rest.deleteRoom(this.room.id);
      this.end('deleted');
    } catch (err) {
      toast(describeError(err), 'error');
    }
  }

  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    // Pending sends come back from the socket as failed ("not sent").
    this.socket.stop();
    this.conn = { state: 'closed' };
    this.banner = ENDED_TEXT[reason];
    this.hooks.changed('none');
    if (reason === 'session_ended') this.hooks.signedOut();
    else if (reason === 'deleted' || reason === 'removed') this.hooks.roomGone();
  }

  /** Loads the page before the oldest message when the view is near its top. */
  maybeLoadOlder(scrollTop: number): void {
    const o = this.older;
    if (!o.done && !o.loading && !o.paused && scrollTop < 200) void this.loadOlder();
  }

  /** A scroll by the reader retries a failed page. */
  scrolled(scrollTop: number): void {
    this.older.paused = false;
    this.maybeLoadOlder(scrollTop);
  }

  /**
   * The page just before the oldest message held, by id, from the store the edge's history frame
   * comes from (Cassandra): whatever lies below a message that store holds is there too, or still
   * reaches this page live, so scrolling back needs no re-checks. Search's index lags the stream
   * and serves search only.
   */
  private async loadOlder(): Promise<void> {
    const gen = this.generation;
    const o = this.older;
    o.loading = true;
    o.status = 'Loading older messages…';
    this.hooks.changed('none');
    try {
      const page = await rest.latest(this.room.id, { limit: 50, ...(this.timeline.oldestId ? { beforeId: this.timeline.oldestId } : {}) });
      if (gen !== this.generation || this.ended) return;
      for (const m of page.messages) this.timeline.insert(m);
      o.done = !page.has_more;
      o.status = o.done ? 'Beginning of the room.' : '';
    } catch (err) {
      o.status = `Could not load older messages: ${describeError(err)}`;
      o.paused = true;
      if (isStatus(err, 401)) this.hooks.signedOut();
    } finally {
      o.loading = false;
    }
    this.hooks.changed('prepend');
  }
}

function bodyProblem(body: string): string | undefined {
  const problem = checkBody(body, MAX_BODY_BYTES);
  if (problem === 'body_too_large') return `Message is ${new TextEncoder().encode(body).length} bytes; the limit is ${MAX_BODY_BYTES}.`;
  if (problem === 'body_empty') return 'The message has no visible text.';
  return undefined;
}
