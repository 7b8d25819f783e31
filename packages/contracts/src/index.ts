/**
 * Every shape that crosses a process boundary in Parley: ids, the message, WebSocket frames and
 * close codes, NATS events, REST answers. Producers and consumers (services, the SDK, the CLI
 * and the web page) import them from here and define none of their own.
 */
export * from './ids.js';
export * from './text.js';
export * from './fields.js';
export * from './message.js';
export * from './frames.js';
export * from './events.js';
export * from './rest.js';
export { websocketProtocolSchema } from './protocol-schema.js';
