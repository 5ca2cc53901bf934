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
    // Route-level splitting (React.lazy per screen) plus the libraries in chunks of their own, so
    // the sign-in page loads the app's shell and the libraries it uses, and a release that changes
    // a screen leaves the cached library chunks valid.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/ },
            { name: 'mantine', test: /node_modules[\\/]@mantine[\\/]/ },
          ],
        },
      },
    },
    chunkSizeWarningLimit: 500,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:3000',
      '/t/': 'http://localhost:3000',
      '/health': 'http://localhost:3000',
    },
  },
});
