/**
 * The parts RoomSocket is made of, for tests and for clients that drive a socket of their own
 * (a load generator). Not a stable API: the public entry is ./index.ts.
 */
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { decideAfterClose, DEFAULT_RATE_PAUSE_MS, type CloseDecision } from './close-decision.js';
export { SeenIds, DEFAULT_SEEN_LIMIT, type Offer } from './seen-ids.js';
export { commandFrame } from './command-frames.js';
export { stateKey, isNewerKey } from './message-state.js';
export { SendQueue, DEFAULT_SEND_QUEUE, RETRYABLE_SEND_CODES, pendingSendOf, type QueuedCommand } from './send-queue.js';
export { newerId } from './message-ids.js';
export { Emitter } from './emitter.js';
export { WS_OPEN } from './web-socket.js';
