/* global WebSocket, location, setTimeout, clearTimeout */
import { api, ApiError } from './api.js';

/** Close codes of the edge (cmd/chat-realtime-svc/src/protocol.ts). */
const CLOSE = { SERVICE_RESTART: 1012, SLOW_CONSUMER: 4008, PROTOCOL_ABUSE: 4400, SESSION_ENDED: 4401, MEMBERSHIP_REVOKED: 4403, ROOM_DELETED: 4404, RATE_ABUSE: 4429 };
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const RATE_ABUSE_PAUSE_MS = 15_000;

/**
 * One room's WebSocket through the gateway, kept open by itself. Every (re)connect sends
 * `last_id` = the newest id the page holds, so the edge replays only what was missed; the page
 * dedupes by id, which makes an overlap harmless. States: connecting → live → reconnecting
 * (with a countdown) → live …, or ended (room deleted, removed, signed out).
 */
export class RoomSocket {
  constructor(roomId, handlers) {
    this.roomId = roomId;
    this.h = handlers;
    this.ws = undefined;
    this.attempt = 0;
    this.timer = undefined;
    this.stopped = false;
    this.live = false;
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, 'left the room');
    this.ws = undefined;
  }

  /** True when the frame went out; false while disconnected (the caller keeps it pending). */
  send(frame) {
    if (!this.live || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  connect() {
    if (this.stopped) return;
    const lastId = this.h.lastId();
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/ws/v1/rooms/${encodeURIComponent(this.roomId)}/ws${lastId ? `?last_id=${lastId}` : ''}`;
    this.h.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(url, ['parley.v1']);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame.type === 'history' || frame.type === 'history_unavailable') {
        this.live = true;
        this.attempt = 0;
        this.h.onState('live');
        this.h.onHistory(frame, lastId);
        return;
      }
      this.h.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.live = false;
      if (this.stopped) return;
      void this.closed(ev.code, opened);
    };
  }

  async closed(code, opened) {
    if (code === CLOSE.ROOM_DELETED) return this.end('deleted');
    // The session was logged out (here or elsewhere): reconnecting cannot help.
    if (code === CLOSE.SESSION_ENDED) return this.end('signed-out');
    if (code === CLOSE.MEMBERSHIP_REVOKED) return this.end('removed');
    if (code === CLOSE.PROTOCOL_ABUSE) return this.end('protocol');
    // A refused handshake hides its status from the browser: ask REST why before retrying.
    if (!opened) {
      const why = await this.probe();
      if (this.stopped) return;
      if (why) return this.end(why);
    }
    const base = code === CLOSE.RATE_ABUSE ? RATE_ABUSE_PAUSE_MS : BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.h.onState('reconnecting', { inMs: delay, code });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** 'deleted' | 'removed' | 'signed-out' when reconnecting cannot help; undefined otherwise. */
  async probe() {
    try {
      const { room } = await api.getRoom(this.roomId);
      return room.role ? undefined : 'removed';
    } catch (err) {
      if (!(err instanceof ApiError)) return undefined;
      if (err.status === 404) return 'deleted';
      if (err.status === 403) return 'removed';
      if (err.status === 401) return 'signed-out';
      return undefined;
    }
  }

  end(reason) {
    this.stopped = true;
    this.live = false;
    this.h.onState('ended', { reason });
    this.h.onEnded(reason);
  }
}
