export * from './files.js';
export * from './postgres.js';
export * from './cassandra.js';
export * from './elastic.js';
