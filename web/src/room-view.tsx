import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { Room, User } from '@parley/client';
import { formatTime } from './format.js';
import { RoomModel, type PendingView, type ScrollKind } from './room-model.js';
import { SearchResults, useSearch } from './search-panel.js';
import type { Entry } from './timeline.js';
import { toast } from './toast.js';

interface Props {
  room: Room;
  me: User;
  onRoomGone: () => void;
  onSignedOut: () => void;
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
export function RoomView({ room, me, onRoomGone, onSignedOut }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const snapshot = useRef<Snapshot | null>(null);
  const props = useRef({ onRoomGone, onSignedOut });
  props.current = { onRoomGone, onSignedOut };
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

  const { conn } = model;
  const connText = conn.state === 'reconnecting' && conn.inMs ? `reconnecting in ${Math.ceil(conn.inMs / 1000)} s…` : STATE_TEXT[conn.state];
  return (
    <section class="room" data-room-id={room.id}>
      <header class="room-head">
        <h2>{room.name}</h2>
        <span class="conn" data-state={conn.state === 'closed' ? 'ended' : conn.state === 'idle' ? 'connecting' : conn.state} aria-live="polite">
          {connText}
        </span>
        <SearchForm onSearch={(text) => void search.run(text)} />
        {room.role === 'owner' && <DeleteButton onConfirm={() => void model.deleteRoom()} />}
      </header>
      <div class="banner" role="alert" hidden={!model.banner}>
        {model.banner}
      </div>
      <div class="room-body">
        <div class="scroller" ref={scroller} onScroll={(e) => model.scrolled(e.currentTarget.scrollTop)}>
          <div class="older-status">{model.older.status}</div>
          <ol class="messages" aria-label="Messages">
            {model.timeline.entries().map((e) => (
              <MessageItem key={e.message.id} entry={e} mine={e.message.sender_id === me.id} flash={flash === e.message.id} />
            ))}
          </ol>
          <ol class="messages pending-list">
            {[...model.pending.values()].map((p) => (
              <PendingItem key={p.clientMsgId} p={p} author={me.display_name} onDiscard={() => model.discard(p.clientMsgId)} />
            ))}
          </ol>
        </div>
        <SearchResults search={search} onReveal={reveal} />
      </div>
      <Composer disabled={model.ended} onSend={(body) => model.send(body)} />
    </section>
  );
}

function MessageItem({ entry, mine, flash }: { entry: Entry; mine: boolean; flash: boolean }) {
  const m = entry.message;
  const cls = `msg${mine ? ' mine' : ''}${entry.provisional ? ' provisional' : ''}${flash ? ' flash' : ''}`;
  return (
    <li class={cls} data-id={m.id}>
      <div class="meta">
        <span class="author">{m.sender_name}</span>
        <time dateTime={new Date(m.created_at).toISOString()}>{formatTime(m.created_at)}</time>
      </div>
      <div class="body">{m.body}</div>
    </li>
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

/** Deleting asks twice: the first click arms the button for 4 s. */
function DeleteButton({ onConfirm }: { onConfirm: () => void }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(t);
  }, [armed]);
  return (
    <button type="button" class="danger" data-armed={armed ? 'yes' : ''} onClick={() => (armed ? onConfirm() : setArmed(true))}>
      {armed ? 'Really delete?' : 'Delete room'}
    </button>
  );
}

/** Enter sends, Shift+Enter starts a new line. */
function Composer({ disabled, onSend }: { disabled: boolean; onSend: (body: string) => string | undefined }) {
  const input = useRef<HTMLTextAreaElement>(null);
  const [error, setError] = useState('');
  const submit = () => {
    const el = input.current;
    if (!el) return;
    const problem = onSend(el.value);
    setError(problem ?? '');
    if (!problem && el.value.trim() !== '') el.value = '';
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={input}
        rows={2}
        disabled={disabled}
        placeholder="Write a message — Enter to send, Shift+Enter for a new line"
        aria-label="Message"
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" disabled={disabled}>
        Send
      </button>
      <span class="composer-error" role="alert">
        {error}
      </span>
    </form>
  );
}
