/**
 * The REST calls a terminal user needs, against user-svc, room-svc and chat-query-svc.
 * Every failure becomes an ApiError carrying the service's `{error:{code,message}}`.
 */
export interface Endpoints {
  user: string;
  room: string;
  query: string;
  ws: string;
}

export interface Room {
  id: string;
  name: string;
  visibility: 'public' | 'private';
  role?: string;
}

export interface Message {
  id: string;
  room_id: string;
  sender_id: string;
  sender_name: string;
  body: string;
  created_at: string;
  highlights?: string[];
}

export interface Session {
  token: string;
  user: { id: string; username: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message} (HTTP ${status})`);
  }
}

export class ParleyApi {
  token: string | undefined;

  constructor(readonly endpoints: Endpoints) {}

  async register(username: string, password: string): Promise<Session> {
    await this.call('user', 'POST', '/v1/users', { username, password });
    return this.login(username, password);
  }

  async login(username: string, password: string): Promise<Session> {
    const s = (await this.call('user', 'POST', '/v1/sessions', { username, password })) as Session;
    this.token = s.token;
    return s;
  }

  async me(): Promise<Session['user']> {
    return ((await this.call('user', 'GET', '/v1/me')) as { user: Session['user'] }).user;
  }

  async rooms(scope: 'mine' | 'public'): Promise<Room[]> {
    return ((await this.call('room', 'GET', `/v1/rooms?scope=${scope}`)) as { rooms: Room[] }).rooms;
  }

  async createRoom(name: string, visibility: 'public' | 'private'): Promise<Room> {
    return ((await this.call('room', 'POST', '/v1/rooms', { name, visibility })) as { room: Room }).room;
  }

  /** Joins over REST unless already a member (joining a private room is refused even to members). */
  async ensureMember(roomId: string): Promise<Room> {
    const { room } = (await this.call('room', 'GET', `/v1/rooms/${encodeURIComponent(roomId)}`)) as { room: Room };
    if (!room.role) await this.call('room', 'POST', `/v1/rooms/${encodeURIComponent(roomId)}/join`);
    return room;
  }

  async search(roomId: string, q: string, limit = 20): Promise<Message[]> {
    const qs = new URLSearchParams({ q, limit: String(limit) });
    return ((await this.call('query', 'GET', `/v1/rooms/${encodeURIComponent(roomId)}/search?${qs}`)) as { messages: Message[] }).messages;
  }

  async history(roomId: string, limit = 20): Promise<Message[]> {
    const qs = new URLSearchParams({ limit: String(limit), order: 'newest' });
    return ((await this.call('query', 'GET', `/v1/rooms/${encodeURIComponent(roomId)}/messages?${qs}`)) as { messages: Message[] }).messages.reverse();
  }

  private async call(svc: 'user' | 'room' | 'query', method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.endpoints[svc]}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(res.status, err?.code ?? 'HTTP_ERROR', err?.message ?? (text.slice(0, 200) || res.statusText));
    }
    return json;
  }
}
