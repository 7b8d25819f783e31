export * from './app.js';
export * from './component.js';
export * from './token.js';
export * from './validate.js';
export * from './openapi.js';
export * from './client-ip.js';
