import { ApiError } from './errors.js';
import type { RestClient } from './rest-client.js';
import type { Refusal } from './room-socket.js';

/**
 * An `explainRefusal` for RoomSocket that asks room-svc about the room with the same session: a
 * browser never learns the status of a refused handshake, and a Node client would only read it
 * from an error's text. 404: deleted; 403 or no role: removed; 401: the session ended. Anything
 * else (429 on joins, 503 while a service restarts, no answer) is passing: retry.
 */
export function refusalFromRest(rest: RestClient, roomId: string): () => Promise<Refusal | undefined> {
  return async () => {
    try {
      const room = await rest.getRoom(roomId);
      return room.role ? undefined : { advice: 'stop', reason: 'removed' };
    } catch (err) {
      if (!(err instanceof ApiError)) return undefined;
      if (err.status === 404) return { advice: 'stop', reason: 'deleted' };
      if (err.status === 403) return { advice: 'stop', reason: 'removed' };
      if (err.status === 401) return { advice: 'login', reason: 'session_ended' };
      return undefined;
    }
  };
}
