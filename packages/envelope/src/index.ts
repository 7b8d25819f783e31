export * from './snowflake.js';
export * from './envelope.js';
export * from './subjects.js';
export * from './kafka-record.js';
export * from './instance-lease.js';
