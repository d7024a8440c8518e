import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the SPA talks to the server through this proxy, so /trpc stays same-origin
// (no CORS, cookies just work). `changeOrigin` stays off: the server compares Origin with Host.
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/trpc': { target: 'http://127.0.0.1:3000' },
    },
  },
  build: {
    target: 'es2022',
    // One ~300 kB (minified) chunk, React included; the budget that matters is gzipped, and
    // test/bundle.test.ts enforces it (100 KB). The limit is below Vite's default 500 kB so that a build
    // that grows warns: React's development build (NODE_ENV not 'production') makes it ~520 kB.
    chunkSizeWarningLimit: 400,
  },
});
