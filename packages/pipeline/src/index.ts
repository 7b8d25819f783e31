export * from './dead-letters.js';
export * from './message-sink.js';
export * from './sink-worker.js';
export * from './topics.js';
export * from './config.js';
export * from './metrics.js';
export * from './erasures.js';
