export * from './app.js';
export * from './component.js';
export * from './validate.js';
export * from './openapi.js';
