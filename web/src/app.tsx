import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import { UnreadCounts, type Room, type RoomVisibility, type User } from '@parley/client';
import { describeError, isStatus, rest } from './api.js';
import { AuthForm } from './auth-form.js';
import { RoomView } from './room-view.js';
import { Sidebar } from './sidebar.js';
import { ToastArea, toast } from './toast.js';

type Screen = { kind: 'loading' } | { kind: 'auth'; message?: string } | { kind: 'failed'; message: string } | { kind: 'main'; me: User };

const SESSION_ENDED = 'Your session ended. Sign in again.';

export function App() {
  const [screen, setScreen] = useState<Screen>({ kind: 'loading' });
  const boot = async () => {
    try {
      setScreen({ kind: 'main', me: await rest.me() });
    } catch (err) {
      setScreen(isStatus(err, 401) ? { kind: 'auth' } : { kind: 'failed', message: describeError(err) });
    }
  };
  useEffect(() => void boot(), []);
  const signOut = (message?: string) => setScreen(message ? { kind: 'auth', message } : { kind: 'auth' });
  const logout = async () => {
    try {
      await rest.logout();
    } catch {
      // The cookie is cleared or the session is already gone; either way we are out.
    }
    location.hash = '';
    signOut();
  };

  return (
    <>
      <header class="topbar">
        <h1>Parley</h1>
        <div id="whoami">
          {screen.kind === 'main' && (
            <>
              <span>{screen.me.display_name}</span>
              <button type="button" class="link" id="logout" onClick={() => void logout()}>
                Log out
              </button>
            </>
          )}
        </div>
      </header>
      <main id="app">
        {screen.kind === 'loading' && <p class="muted placeholder">Loading…</p>}
        {screen.kind === 'failed' && (
          <>
            <p class="error" role="alert">
              {screen.message}
            </p>
            <button type="button" onClick={() => void boot()}>
              Try again
            </button>
          </>
        )}
        {screen.kind === 'auth' && <AuthForm key={screen.message ?? ''} message={screen.message} onSignedIn={(me) => setScreen({ kind: 'main', me })} />}
        {screen.kind === 'main' && <Main me={screen.me} onSignedOut={() => signOut(SESSION_ENDED)} />}
      </main>
      <ToastArea />
    </>
  );
}

function routeId(): string | undefined {
  return new URLSearchParams(location.hash.slice(1)).get('room') ?? undefined;
}

/** GET /v1/unread this often (and on focus); between answers the open room's frames and hidden live messages move the badges. */
const UNREAD_REFRESH_MS = 30_000;

interface RoomLists {
  mine: Room[];
  publicRooms: Room[];
  loaded: boolean;
}

/** Rooms on the left, the open room on the right; `#room=<id>` names the open one. */
function Main({ me, onSignedOut }: { me: User; onSignedOut: () => void }) {
  const [rooms, setRooms] = useState<RoomLists>({ mine: [], publicRooms: [], loaded: false });
  const [wanted, setWanted] = useState(routeId);
  // Stays open when the list changes: a deleted room keeps its notice until another is picked.
  const [open, setOpen] = useState<Room | undefined>(undefined);
  const [unread] = useState(() => new UnreadCounts(me.id));
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  // room-svc names every direct room "direct"; the page names one after the other member once it knows them.
  const [directNames] = useState(() => new Map<string, string>());

  const refresh = async () => {
    try {
      const [mine, pub] = await Promise.all([rest.listRooms('mine'), rest.listRooms('public')]);
      const ids = new Set(mine.map((r) => r.id));
      setRooms({ mine, publicRooms: pub.filter((r) => !ids.has(r.id)), loaded: true });
    } catch (err) {
      if (isStatus(err, 401)) return onSignedOut();
      toast(describeError(err), 'error');
      setRooms((r) => ({ ...r, loaded: true }));
    }
  };
  const known = useRef(new Set<string>());
  known.current = new Set(rooms.mine.map((r) => r.id));
  const refreshUnread = async () => {
    try {
      const answer = await rest.unread();
      unread.fromRest(answer);
      redraw(0);
      // A room the list does not hold yet: someone started a direct room with the reader, or added them.
      if (answer.rooms.some((r) => !known.current.has(r.room_id))) void refresh();
    } catch {
      // Badges keep their last counts; the next focus or interval asks again.
    }
  };
  useEffect(() => {
    void refresh();
    void refreshUnread();
    const onHash = () => setWanted(routeId());
    const onFocus = () => void refreshUnread();
    const every = setInterval(onFocus, UNREAD_REFRESH_MS);
    window.addEventListener('hashchange', onHash);
    window.addEventListener('focus', onFocus);
    return () => {
      clearInterval(every);
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('focus', onFocus);
    };
  }, []);
  useEffect(() => {
    if (rooms.loaded) setOpen((cur) => (cur && cur.id === wanted ? cur : rooms.mine.find((r) => r.id === wanted)));
  }, [wanted, rooms]);

  const create = async (name: string, visibility: RoomVisibility) => {
    try {
      const room = await rest.createRoom(name, visibility);
      await refresh();
      location.hash = `#room=${room.id}`;
      return true;
    } catch (err) {
      toast(describeError(err), 'error');
      return false;
    }
  };
  const join = async (roomId: string) => {
    try {
      await rest.joinRoom(roomId);
      await refresh();
      location.hash = `#room=${roomId}`;
    } catch (err) {
      toast(describeError(err), 'error');
      void refresh();
    }
  };

  const direct = async (userId: string, name: string) => {
    try {
      const room = await rest.directRoom(userId);
      directNames.set(room.id, name);
      await refresh();
      location.hash = `#room=${room.id}`;
    } catch (err) {
      toast(describeError(err), 'error');
    }
  };

  return (
    <div class="layout">
      <Sidebar
        mine={rooms.mine}
        publicRooms={rooms.publicRooms}
        currentId={open?.id}
        unread={(id) => unread.of(id)}
        nameOf={(r) => (r.visibility === 'direct' ? `@ ${directNames.get(r.id) ?? 'direct message'}` : r.name)}
        onCreate={create}
        onJoin={(id) => void join(id)}
        onRefresh={() => void refresh()}
      />
      <div class="pane">
        {open ? (
          <RoomView
            key={open.id}
            room={open}
            me={me}
            onRoomGone={() => void refresh()}
            onSignedOut={onSignedOut}
            onUnread={(c) => {
              unread.fromFrame({ type: 'unread', room_id: open.id, ...c });
              redraw(0);
            }}
            onUnseen={(m) => {
              if (unread.live(m)) redraw(0);
            }}
            onDirect={(userId, name) => void direct(userId, name)}
          />
        ) : (
          <p class="muted placeholder">{rooms.loaded && wanted ? 'You are not a member of that room (or it no longer exists).' : 'Pick a room or create one.'}</p>
        )}
      </div>
    </div>
  );
}
