import WebSocket from 'ws';
import { RoomSocket, refusalFromRest, type EndReason, type Message, type PresenceMember, type RestClient } from '@parley/client';

/** What a room session reports to the screen. */
export interface RoomView {
  /** `resumed`: after a reconnect, `messages` are only the ones missed meanwhile. */
  history(messages: Message[], hasMore: boolean, resumed: boolean): void;
  message(m: Message): void;
  /** A message shown before (or older than anything shown) changed: its whole new state. */
  updated(m: Message): void;
  notice(text: string): void;
  /** Who is online changed (the first `presence`: `joined` is everyone, and `initial` is true). */
  presence(joined: PresenceMember[], left: PresenceMember[], initial: boolean): void;
}

const ENDED: Record<EndReason, string> = {
  deleted: 'the room was deleted',
  removed: 'you are no longer a member of this room',
  protocol: 'the server closed the connection after too many invalid frames',
  session_ended: 'your session ended: /login again',
  closed: 'the server closed the connection',
};

/**
 * One room on the terminal, on @parley/client's RoomSocket: it resumes with the last id seen,
 * drops repeats, and resends unacknowledged messages with their client_msg_id after a reconnect.
 * This file turns its events into lines, and marks read what it showed: every message printed
 * moves the read mark to it (the socket writes only marks that move forward).
 */
export class RoomSession {
  private readonly socket: RoomSocket;
  private leaving = false;
  /** Until open() settles, a refusal is its rejection rather than a notice. */
  private entered = false;

  constructor(
    rest: RestClient,
    wsUrl: string,
    readonly roomId: string,
    selfId: string,
    private readonly view: RoomView,
  ) {
    this.socket = new RoomSocket({ roomId, url: wsUrl, token: rest.token, tokenVia: 'header', WebSocket, selfId, explainRefusal: refusalFromRest(rest, roomId) });
    const s = this.socket;
    s.on('history', (h) => {
      view.history(h.messages, h.hasMore, h.resumed);
      this.read(h.messages.at(-1));
    });
    s.on('message', (m) => {
      view.message(m);
      this.read(m);
    });
    s.on('presence', (p) => view.presence(p.online, [], true));
    s.on('presence_diff', (d) => view.presence(d.joined, d.left, false));
    s.on('message_updated', (m) => view.updated(m));
    s.on('history_unavailable', (h) => view.notice(`history unavailable (${h.code}); live messages follow`));
    s.on('state', (e) => {
      if (e.state === 'reconnecting' && e.inMs !== undefined) view.notice(`connection lost (${e.code ?? 'no close code'}); reconnecting in ${e.inMs} ms`);
    });
    s.on('rate_limited', (r) => view.notice(`sending too fast: messages wait ${Math.ceil(r.retryInMs / 1000)} s and are sent again`));
    s.on('pending', (p) => {
      if (p.state === 'failed' && !this.leaving) view.notice(`not sent (${p.reason ?? 'refused'}): ${p.body}`);
    });
    s.on('error', (f) => {
      if (!f.client_msg_id) view.notice(`error ${f.code}: ${f.message}`);
    });
    s.on('closed', (c) => {
      if (!this.leaving && this.entered) view.notice(`left the room: ${ENDED[c.reason]} (close ${c.code})`);
    });
  }

  /** Resolves once live, or once the first attempt failed and retries are under way; rejects when the room refused for good. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const offState = this.socket.on('state', (e) => {
        if (e.state === 'live' || (e.state === 'reconnecting' && e.inMs !== undefined)) {
          this.entered = true;
          done(resolve);
        }
      });
      const offClosed = this.socket.on('closed', (c) => done(() => reject(new Error(`could not enter the room: ${ENDED[c.reason]}`))));
      const done = (fn: () => void) => {
        offState();
        offClosed();
        fn();
      };
      this.socket.start();
    });
  }

  /** Members online in the room now, longest online first. */
  get online(): PresenceMember[] {
    return this.socket.online;
  }

  private read(m: Message | undefined): void {
    if (m) this.socket.markRead(m.id);
  }

  send(body: string, replyTo?: string): void {
    this.socket.send(body, { replyTo });
    this.offline();
  }

  /** An edit, delete or reaction: queued like a send; its refusal (or failure) is a notice. */
  change(what: 'edit' | 'delete' | 'react', run: (s: RoomSocket) => Promise<string>): void {
    run(this.socket).catch((err: Error & { code?: string }) => {
      if (!this.leaving) this.view.notice(`${what} refused (${err.code ?? 'error'}): ${err.message}`);
    });
    this.offline();
  }

  private offline(): void {
    if (this.socket.state !== 'live') this.view.notice('not connected; sent after reconnecting');
  }

  /** Waits (at most `timeoutMs`) until every command is acknowledged: piped input ends right after its last line. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.socket.unsettled > 0 && this.socket.state !== 'closed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  close(): void {
    this.leaving = true;
    this.socket.stop();
  }
}
