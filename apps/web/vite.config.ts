import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './precompress.ts';

// In development the SPA talks to the server through this proxy, so /trpc stays same-origin
// (no CORS, cookies just work). `changeOrigin` stays off: the server compares Origin with Host.
// The proxy follows the server's PORT and HOST (as `pnpm dev` passes them); WEB_PORT moves Vite itself.
const serverHost = process.env.HOST && process.env.HOST !== '0.0.0.0' ? process.env.HOST : '127.0.0.1';
const serverPort = process.env.PORT ?? '3000';

export default defineConfig({
  plugins: [react(), precompress()],
  server: {
    port: Number(process.env.WEB_PORT ?? 5173),
    strictPort: true,
    proxy: {
      '/trpc': {
        target: `http://${serverHost.includes(':') ? `[${serverHost}]` : serverHost}:${serverPort}`,
      },
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
