export * from './snowflake.js';
export * from './envelope.js';
export * from './kafka-record.js';
