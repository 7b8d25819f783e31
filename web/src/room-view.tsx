import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { Message, Room, User } from '@parley/client';
import type { Person } from './awareness-model.js';
import { Composer } from './composer.js';
import { ArmedButton, MessageItem, type MessageActions } from './message-item.js';
import { RoomModel, type PendingView, type ScrollKind } from './room-model.js';
import { SearchResults, useSearch } from './search-panel.js';
import { ThreadPanel } from './thread-panel.js';
import { toast } from './toast.js';

interface Props {
  room: Room;
  me: User;
  onRoomGone: () => void;
  onSignedOut: () => void;
  /** The edge's unread counts of this room, and a live message that arrived while the page was hidden. */
  onUnread: (counts: { messages: number; mentions: number }) => void;
  onUnseen: (m: Message) => void;
  /** Opens (creating it the first time) the direct room with a member. */
  onDirect: (userId: string, name: string) => void;
}

const STATE_TEXT = { idle: 'connecting…', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', closed: 'offline' } as const;
const PENDING_TEXT = { sending: 'sending…', queued: 'waiting to send…', retrying: 'retrying…', failed: 'not sent' } as const;
const RANK: Record<ScrollKind, number> = { none: 0, append: 1, prepend: 2, bottom: 3 };

interface Snapshot {
  atBottom: boolean;
  fromBottom: number;
  kind: ScrollKind;
}

/**
 * One room. The model changes, then asks for a render; the scroll position is read before the
 * render (from the DOM as it was) and set after it: pinned to the newest while the reader was at
 * the bottom, kept in place when older messages are added above.
 */
export function RoomView({ room, me, onRoomGone, onSignedOut, onUnread, onUnseen, onDirect }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const snapshot = useRef<Snapshot | null>(null);
  const props = useRef({ onRoomGone, onSignedOut, onUnread, onUnseen });
  props.current = { onRoomGone, onSignedOut, onUnread, onUnseen };
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [model] = useState(
    () =>
      new RoomModel(room, me, {
        changed: (kind) => {
          const s = scroller.current;
          const prev = snapshot.current;
          if (s) {
            snapshot.current = {
              atBottom: prev?.atBottom ?? s.scrollHeight - s.scrollTop - s.clientHeight < 40,
              fromBottom: prev?.fromBottom ?? s.scrollHeight - s.scrollTop,
              kind: prev && RANK[prev.kind] > RANK[kind] ? prev.kind : kind,
            };
          }
          rerender(0);
        },
        signedOut: () => props.current.onSignedOut(),
        roomGone: () => props.current.onRoomGone(),
        unread: (c) => props.current.onUnread(c),
        unseen: (m) => props.current.onUnseen(m),
      }),
  );
  const search = useSearch(room.id);
  const [flash, setFlash] = useState<string | undefined>(undefined);

  useEffect(() => {
    model.start();
    return () => model.stop();
  }, [model]);

  useLayoutEffect(() => {
    const s = scroller.current;
    const snap = snapshot.current;
    snapshot.current = null;
    if (!s) return;
    if (snap?.kind === 'bottom' || (snap?.atBottom && snap.kind !== 'none')) s.scrollTop = s.scrollHeight;
    else if (snap?.kind === 'prepend') s.scrollTop = s.scrollHeight - snap.fromBottom;
    model.maybeLoadOlder(s.scrollTop);
  });

  const reveal = (id: string) => {
    const node = scroller.current?.querySelector(`li.msg[data-id="${id}"]`);
    if (!node) return toast('That message is further back: scroll up to load it.');
    node.scrollIntoView({ block: 'center' });
    setFlash(id);
    setTimeout(() => setFlash((f) => (f === id ? undefined : f)), 1500);
  };

  const actions: MessageActions = {
    me,
    isOwner: room.role === 'owner',
    edit: (id, body) => model.edit(id, body),
    remove: (id) => void model.remove(id),
    react: (m, emoji) => void model.toggleReaction(m, emoji),
    reply: (m) => model.answer(m),
    openThread: (id) => {
      search.close();
      model.openThread(id);
    },
    reveal,
    parentOf: (id) => model.timeline.get(id),
  };
  const { conn, awareness } = model;
  const mineLatest = model.latestMine();
  const connText = conn.state === 'reconnecting' && conn.inMs ? `reconnecting in ${Math.ceil(conn.inMs / 1000)} s…` : STATE_TEXT[conn.state];
  return (
    <section class="room" data-room-id={room.id}>
      <header class="room-head">
        <h2>{room.name}</h2>
        <span class="conn" data-state={conn.state === 'closed' ? 'ended' : conn.state === 'idle' ? 'connecting' : conn.state} aria-live="polite">
          {connText}
        </span>
        <SearchForm
          onSearch={(text) => {
            model.openThread(undefined);
            void search.run(text);
          }}
        />
        {room.role === 'owner' && room.visibility !== 'direct' && <ArmedButton label="Delete room" armedLabel="Really delete?" cls="danger" onConfirm={() => void model.deleteRoom()} />}
      </header>
      <div class="banner" role="alert" hidden={!model.banner}>
        {model.banner}
      </div>
      <div class="room-body">
        <div class="scroller" ref={scroller} onScroll={(e) => model.scrolled(e.currentTarget.scrollTop)}>
          <div class="older-status">{model.older.status}</div>
          <ol class="messages" aria-label="Messages">
            {model.timeline.entries().map((e) => (
              <MessageItem key={e.message.id} m={e.message} provisional={e.provisional} actions={actions} flash={flash === e.message.id} seen={e.message === mineLatest ? awareness.seenBy(e.message) : undefined} />
            ))}
          </ol>
          <ol class="messages pending-list">
            {[...model.pending.values()].map((p) => (
              <PendingItem key={p.clientMsgId} p={p} author={me.display_name} onDiscard={() => model.discard(p.clientMsgId)} />
            ))}
          </ol>
        </div>
        <MemberList people={awareness.people()} me={me} direct={room.visibility === 'direct'} onDirect={onDirect} />
        {model.thread ? <ThreadPanel thread={model.thread} actions={actions} ended={model.ended} onSend={(body, id) => model.send(body, id)} onClose={() => model.openThread(undefined)} /> : <SearchResults search={search} onReveal={reveal} />}
      </div>
      <div class="typing" aria-live="polite">
        {awareness.typingText()}
      </div>
      {model.replyTo && <ReplyBar to={model.replyTo} onCancel={() => model.answer(undefined)} />}
      <Composer disabled={model.ended} onSend={(body) => model.send(body)} onTyping={() => awareness.typing()} />
    </section>
  );
}

function PendingItem({ p, author, onDiscard }: { p: PendingView; author: string; onDiscard: () => void }) {
  return (
    <li class="msg mine pending" data-cid={p.clientMsgId} data-state={p.state}>
      <div class="meta">
        <span class="author">{author}</span>
        <span class="status">{p.note ? `${PENDING_TEXT[p.state]}: ${p.note}` : PENDING_TEXT[p.state]}</span>
        {p.state === 'failed' && (
          <button type="button" class="link" onClick={onDiscard}>
            discard
          </button>
        )}
      </div>
      <div class="body">{p.body}</div>
    </li>
  );
}

function SearchForm({ onSearch }: { onSearch: (text: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(input.current?.value ?? '');
      }}
    >
      <input ref={input} type="search" name="q" placeholder="Search this room" maxLength={256} aria-label="Search this room" />
      <button type="submit">Search</button>
    </form>
  );
}

function ReplyBar({ to, onCancel }: { to: Message; onCancel: () => void }) {
  return (
    <div class="reply-bar">
      Replying to <strong>{to.sender_name}</strong>: <span class="muted">{to.body.slice(0, 80)}</span>
      <button type="button" class="link" aria-label="Cancel the reply" onClick={onCancel}>
        ×
      </button>
    </div>
  );
}

/** Members online (a green dot) and others seen in the room; any but the reader can be written to directly. */
function MemberList({ people, me, direct, onDirect }: { people: Person[]; me: User; direct: boolean; onDirect: (userId: string, name: string) => void }) {
  return (
    <aside class="members" aria-label="Members">
      <h3>{people.filter((p) => p.online).length} online</h3>
      <ul>
        {people.map((p) => (
          <li key={p.userId} data-user-id={p.userId} data-online={p.online}>
            <span class={`dot${p.online ? ' on' : ''}`} title={p.online ? 'online' : 'offline'} />
            <span class="name">{p.userId === me.id ? `${p.name} (you)` : p.name}</span>
            {p.userId !== me.id && !direct && (
              <button type="button" class="link" data-dm={p.userId} title={`Direct messages with ${p.name}`} onClick={() => onDirect(p.userId, p.name)}>
                message
              </button>
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}
