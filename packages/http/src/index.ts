export * from './app.js';
export * from './component.js';
export * from './token.js';
export * from './validate.js';
export * from './client-ip.js';
