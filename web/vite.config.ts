import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The page is built into web/dist, which web-gateway serves (WEB_ROOT). The output must satisfy
 * the gateway's CSP (`script-src 'self'; style-src 'self'`): one module script and one
 * stylesheet, both files, no inline script or style.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // JSX compiled for Preact by Vite's own transform; no Babel preset needed.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // An inlined asset would be a data: URL that the CSP's default-src 'none' refuses.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  // `npx vite web` for work on the page: REST and WebSocket go to the gateway `make up` started.
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
