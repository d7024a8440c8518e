import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // deploy.test.ts and scaleout.test.ts both run build.mjs (it empties dist/ first): one file at a time.
    fileParallelism: false,
  },
});
