import { useRef } from 'preact/hooks';
import type { Room, RoomUnread, RoomVisibility } from '@parley/client';

interface Props {
  mine: Room[];
  publicRooms: Room[];
  currentId: string | undefined;
  unread: (roomId: string) => RoomUnread;
  nameOf: (room: Room) => string;
  onCreate: (name: string, visibility: RoomVisibility) => Promise<boolean>;
  onJoin: (roomId: string) => void;
  onRefresh: () => void;
}

/** Create a room; your rooms, each with its unread badge; public rooms to join. */
export function Sidebar({ mine, publicRooms, currentId, unread, nameOf, onCreate, onJoin, onRefresh }: Props) {
  const name = useRef<HTMLInputElement>(null);
  const visibility = useRef<HTMLSelectElement>(null);
  return (
    <aside class="sidebar">
      <form
        class="create-room"
        onSubmit={async (e) => {
          e.preventDefault();
          const el = name.current;
          if (el && (await onCreate(el.value.trim(), (visibility.current?.value ?? 'public') as RoomVisibility))) el.value = '';
        }}
      >
        <input ref={name} name="room_name" required maxLength={100} placeholder="Room name" aria-label="Room name" />
        <select ref={visibility} name="visibility" aria-label="Visibility">
          <option value="public">public</option>
          <option value="private">private</option>
        </select>
        <button type="submit">Create</button>
      </form>
      <nav class="rooms" aria-label="Rooms">
        <h3>Your rooms</h3>
        <ul class="mine">
          {mine.length === 0 && <li class="muted">none yet</li>}
          {mine.map((r) => (
            <li key={r.id} class={r.id === currentId ? 'current' : undefined}>
              <a href={`#room=${r.id}`} data-room-id={r.id}>
                {nameOf(r)}
              </a>
              {r.visibility === 'private' && <span class="tag">private</span>}
              <Badge counts={unread(r.id)} roomId={r.id} />
            </li>
          ))}
        </ul>
        <h3>
          Public rooms{' '}
          <button type="button" class="link" title="Refresh" onClick={onRefresh}>
            refresh
          </button>
        </h3>
        <ul class="public">
          {publicRooms.length === 0 && <li class="muted">nothing else to join</li>}
          {publicRooms.map((r) => (
            <li key={r.id}>
              <span class="name">{r.name}</span>
              <button type="button" class="small" data-join-room={r.id} onClick={() => onJoin(r.id)}>
                Join
              </button>
            </li>
          ))}
        </ul>
      </nav>
    </aside>
  );
}

/** Unread messages of a room, marked "@" when some mention the reader; nothing when all is read. */
function Badge({ counts, roomId }: { counts: RoomUnread; roomId: string }) {
  if (counts.messages === 0) return null;
  const title = `${counts.messages} unread${counts.mentions ? `, ${counts.mentions} mentioning you` : ''}`;
  return (
    <span class={`badge${counts.mentions ? ' mentioned' : ''}`} data-unread-room={roomId} title={title}>
      {counts.mentions ? `@${counts.messages}` : counts.messages}
    </span>
  );
}
