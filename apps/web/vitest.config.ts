import { defineConfig } from 'vitest/config';

// Two projects so `pnpm test` runs both: fast unit tests (and the bundle budget) and the
// browser end-to-end tests, which start the real server, the archive stand-in and Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          globalSetup: ['e2e/global-setup.ts'],
        },
      },
    ],
  },
});
