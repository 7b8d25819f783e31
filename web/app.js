/* global document, window, location, URLSearchParams */
import { api, ApiError, describeError } from './api.js';
import { h, toast } from './dom.js';
import { RoomView } from './room-view.js';

const app = document.getElementById('app');
const who = document.getElementById('whoami');
const state = { me: undefined, mine: [], publicRooms: [], view: undefined };

async function boot() {
  try {
    state.me = (await api.me()).user;
    showMain();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showAuth();
    app.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)), h('button', { type: 'button', onclick: boot }, 'Try again'));
  }
}

function field(label, input) {
  return h('label', {}, h('span', {}, label), input);
}

function showAuth(message) {
  closeRoom();
  state.me = undefined;
  who.replaceChildren();
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 8, maxlength: 256 });
  const displayName = h('input', { name: 'display_name', autocomplete: 'nickname', maxlength: 64, placeholder: 'optional' });
  const error = h('p', { class: 'error', role: 'alert' }, message ?? '');
  const busy = (on) => form.querySelectorAll('button').forEach((b) => (b.disabled = on));
  const run = async (register) => {
    error.textContent = '';
    if (!form.reportValidity()) return;
    busy(true);
    try {
      if (register) await api.register(username.value, password.value, displayName.value.trim() || undefined);
      state.me = (await api.login(username.value, password.value)).user;
      showMain();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) error.textContent = 'Wrong username or password.';
      else if (err instanceof ApiError && err.status === 409) error.textContent = 'That username is taken.';
      else error.textContent = describeError(err);
    } finally {
      busy(false);
    }
  };
  const form = h(
    'form',
    { class: 'auth card', onsubmit: (e) => (e.preventDefault(), run(false)) },
    h('h2', {}, 'Sign in to Parley'),
    field('Username', username),
    field('Password', password),
    field('Display name (new accounts)', displayName),
    error,
    h('div', { class: 'row' }, h('button', { type: 'submit', name: 'login' }, 'Log in'), h('button', { type: 'button', name: 'register', class: 'secondary', onclick: () => run(true) }, 'Create account')),
  );
  app.replaceChildren(form);
  username.focus();
}

function showMain() {
  who.replaceChildren(h('span', {}, state.me.display_name), h('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, 'Log out'));
  const name = h('input', { name: 'room_name', required: true, maxlength: 100, placeholder: 'Room name', 'aria-label': 'Room name' });
  const visibility = h('select', { name: 'visibility', 'aria-label': 'Visibility' }, h('option', { value: 'public' }, 'public'), h('option', { value: 'private' }, 'private'));
  const create = h(
    'form',
    {
      class: 'create-room',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const { room } = await api.createRoom(name.value.trim(), visibility.value);
          name.value = '';
          await refreshRooms();
          location.hash = `#room=${room.id}`;
        } catch (err) {
          toast(describeError(err), 'error');
        }
      },
    },
    name,
    visibility,
    h('button', { type: 'submit' }, 'Create'),
  );
  state.sidebar = h('nav', { class: 'rooms', 'aria-label': 'Rooms' });
  state.pane = h('div', { class: 'pane' }, h('p', { class: 'muted placeholder' }, 'Pick a room or create one.'));
  app.replaceChildren(h('div', { class: 'layout' }, h('aside', { class: 'sidebar' }, create, state.sidebar), state.pane));
  void refreshRooms().then(route);
}

async function refreshRooms() {
  try {
    const [mine, pub] = await Promise.all([api.myRooms(), api.publicRooms()]);
    state.mine = mine.rooms;
    const mineIds = new Set(state.mine.map((r) => r.id));
    state.publicRooms = pub.rooms.filter((r) => !mineIds.has(r.id));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showAuth('Your session ended. Sign in again.');
    toast(describeError(err), 'error');
  }
  renderRooms();
}

function renderRooms() {
  const current = state.view?.room.id;
  const mine = state.mine.map((r) => h('li', { class: r.id === current ? 'current' : undefined }, h('a', { href: `#room=${r.id}`, dataset: { roomId: r.id } }, r.name), r.visibility === 'private' ? h('span', { class: 'tag' }, 'private') : undefined));
  const others = state.publicRooms.map((r) =>
    h('li', {}, h('span', { class: 'name' }, r.name), h('button', { type: 'button', class: 'small', dataset: { joinRoom: r.id }, onclick: () => join(r.id) }, 'Join')),
  );
  state.sidebar.replaceChildren(
    h('h3', {}, 'Your rooms'),
    h('ul', { class: 'mine' }, mine.length ? mine : h('li', { class: 'muted' }, 'none yet')),
    h('h3', {}, 'Public rooms ', h('button', { type: 'button', class: 'link', onclick: refreshRooms, title: 'Refresh' }, 'refresh')),
    h('ul', { class: 'public' }, others.length ? others : h('li', { class: 'muted' }, 'nothing else to join')),
  );
}

async function join(roomId) {
  try {
    await api.joinRoom(roomId);
    await refreshRooms();
    location.hash = `#room=${roomId}`;
  } catch (err) {
    toast(describeError(err), 'error');
    void refreshRooms();
  }
}

function closeRoom() {
  state.view?.destroy();
  state.view = undefined;
}

function route() {
  if (!state.me || !state.pane) return;
  const id = new URLSearchParams(location.hash.slice(1)).get('room');
  if (state.view?.room.id === id) return;
  closeRoom();
  const room = state.mine.find((r) => r.id === id);
  if (!room) {
    state.pane.replaceChildren(h('p', { class: 'muted placeholder' }, id ? 'You are not a member of that room (or it no longer exists).' : 'Pick a room or create one.'));
    renderRooms();
    return;
  }
  state.view = new RoomView(room, state.me, {
    onRoomGone: () => void refreshRooms(),
    onSignedOut: () => showAuth('Your session ended. Sign in again.'),
  });
  state.pane.replaceChildren(state.view.el);
  state.view.scrollToBottom();
  renderRooms();
}

async function logout() {
  try {
    await api.logout();
  } catch {
    // The cookie is cleared or the session is already gone; either way we are out.
  }
  location.hash = '';
  showAuth();
}

window.addEventListener('hashchange', route);
void boot();
