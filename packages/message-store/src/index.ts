export * from './tables.js';
export * from './state.js';
