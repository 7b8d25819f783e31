export * from './health.js';
export * from './postgres.js';
export * from './redis.js';
export * from './nats.js';
export * from './kafka.js';
export * from './cassandra.js';
export * from './elastic.js';
