/**
 * REST answers of user-svc and room-svc that @parley/contracts does not define yet (it holds
 * the message, the pages of messages and the error body). They mirror `userJson` in
 * cmd/user-svc/src/routes.ts and `roomJson` in cmd/room-svc/src/routes.ts; once contracts
 * carries them, these become re-exports of its types.
 */

export interface User {
  id: string;
  username: string;
  display_name: string;
  /** Present on registration only. */
  created_at?: string;
}

/** `POST /v1/sessions`. The same token is also set as the HttpOnly `parley_session` cookie. */
export interface Session {
  token: string;
  expires_at: string;
  user: User;
}

export type RoomVisibility = 'public' | 'private';
export type RoomRole = 'owner' | 'member';

export interface Room {
  id: string;
  name: string;
  visibility: RoomVisibility;
  owner_id: string;
  created_at: string;
  /** The caller's role; absent when the caller is not a member (a public room seen from outside). */
  role?: RoomRole;
}

export interface Member {
  user_id: string;
  role: RoomRole;
  joined_at: string;
}
