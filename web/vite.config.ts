// The staff back office: built into dist/web by `npm run build` (scripts/build.mjs), served at `/`
// by the Kluis server (src/http/web.ts). `npx vite web` serves it for development with the API
// proxied to a running `npm start`.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The CSP allows scripts only from the same origin: no inline script, no eval.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 900,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:3000',
      '/t/': 'http://localhost:3000',
      '/health': 'http://localhost:3000',
    },
  },
});
