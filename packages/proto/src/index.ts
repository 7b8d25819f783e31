/**
 * Generated gRPC contracts, one namespace per proto package (the generated files each carry
 * their own helper types, so flat re-exports would collide).
 */
export * as userV1 from './gen/parley/user/v1/user.js';
export * as roomV1 from './gen/parley/room/v1/room.js';
export * from './grpc.js';
export * as chatV1 from './gen/parley/chat/v1/query.js';
export * from './chat-message.js';
