// Once per e2e run: check that Chromium is there, and build the SPA the server will serve.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { buildSpa } from '../test/build';

declare module 'vitest' {
  export interface ProvidedContext {
    webDist: string;
    chromiumPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) {
    const message =
      `Chromium not found at ${chromiumPath}. Install it with \`apt-get install chromium\` ` +
      '(nothing here downloads a browser), or point CHROMIUM_PATH at it.';
    // .ci/run sets REQUIRE_CHROMIUM=1: there a missing browser fails the run instead of skipping it.
    if (process.env.REQUIRE_CHROMIUM === '1') throw new Error(message);
    console.warn(`Skipping the end-to-end tests: ${message}`);
    project.provide('chromiumPath', '');
    project.provide('webDist', '');
    return async () => {};
  }
  const webDist = await buildSpa();
  project.provide('webDist', webDist);
  project.provide('chromiumPath', chromiumPath);
  return () => rm(webDist, { recursive: true, force: true });
}
