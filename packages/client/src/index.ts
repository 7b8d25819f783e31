/**
 * @parley/client: what a chat client needs of Parley, in browsers and in Node 20. A typed REST
 * client (users, sessions, rooms, direct rooms, messages, search, read marks, unread counts,
 * presence) and RoomSocket, one room's self-healing
 * WebSocket. Shapes come from @parley/contracts; this package defines no wire format of its own.
 */
export type {
  Message,
  MessageVersion,
  ReactionCount,
  Versions,
  ThreadPage,
  LatestPage,
  SearchPage,
  FoundMessage,
  ErrorFrame,
  ErrorFrameCode,
  User,
  Session,
  Room,
  RoomRole,
  RoomVisibility,
  Member,
  PresenceMember,
  Readers,
  ReadMark,
  Unread,
} from '@parley/contracts';
export { TYPING_SHOW_MS, TYPING_THROTTLE_MS } from '@parley/contracts';
/** Whether a text is a message id (a positive int64 in decimal): the id as a bigint, or undefined. */
export { parseMessageId, isEmoji, canonicalUuid } from '@parley/contracts';
export { ApiError, CLIENT_ERROR_CODES, CommandError, SendError, type SendRefusal } from './errors.js';
export {
  RestClient,
  DEFAULT_ENDPOINTS,
  DEFAULT_REST_TIMEOUT_MS,
  gatewayEndpoints,
  type RestClientOptions,
  type RestEndpoints,
  type LatestOptions,
  type PageOptions,
  type ThreadOptions,
  type MentionsOptions,
  type FetchLike,
} from './rest-client.js';
export type { UserPresence } from '@parley/contracts';
export { PresenceRoster } from './presence-roster.js';
export { TypingTracker, typingLine } from './typing-tracker.js';
export { UnreadCounts, type RoomUnread } from './unread-counts.js';
export { ReadMarks } from './read-marks.js';
export { checkBody, newClientMsgId } from './command-frames.js';
export { changedAt, isNewerCopy, reactedWith, isDeleted, mentions } from './message-state.js';
export {
  RoomSocket,
  DEFAULT_HEARTBEAT_MS,
  type RoomSocketOptions,
  type RoomSocketEvents,
  type ConnectionState,
  type StateEvent,
  type HistoryEvent,
  type Refusal,
} from './room-socket.js';
export { refusalFromRest } from './refusal.js';
export type { PendingSend, PendingState, SendQueueOptions } from './send-queue.js';
export type { BackoffOptions } from './backoff.js';
export type { EndReason } from './close-decision.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket.js';
export { compareIds } from './message-ids.js';
export { parseHighlight, unescapeHtml, type HighlightPiece } from './highlight.js';
