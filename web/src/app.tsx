import { useEffect, useState } from 'preact/hooks';
import type { Room, RoomVisibility, User } from '@parley/client';
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
  useEffect(() => {
    void refresh();
    const onHash = () => setWanted(routeId());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
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

  return (
    <div class="layout">
      <Sidebar mine={rooms.mine} publicRooms={rooms.publicRooms} currentId={open?.id} onCreate={create} onJoin={(id) => void join(id)} onRefresh={() => void refresh()} />
      <div class="pane">
        {open ? (
          <RoomView key={open.id} room={open} me={me} onRoomGone={() => void refresh()} onSignedOut={onSignedOut} />
        ) : (
          <p class="muted placeholder">{rooms.loaded && wanted ? 'You are not a member of that room (or it no longer exists).' : 'Pick a room or create one.'}</p>
        )}
      </div>
    </div>
  );
}
