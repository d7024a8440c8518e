// The real Lending server (port 0, SQLite in memory) beside the archive.org stand-in (port 0),
// for the typed client's and `pnpm lending`'s tests.
import { demoPatrons, startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { createApp, loadEnv } from '@lending/server';
import type { LendingApp, Listening } from '@lending/server';

export interface LendingStack {
  /** e.g. http://127.0.0.1:40123 (no trailing slash); tRPC is at `${url}/trpc`. */
  url: string;
  archive: RunningArchive;
  close(): Promise<void>;
}

export async function startLendingStack(): Promise<LendingStack> {
  const archive = await startArchive({ port: 0 });
  const config = await loadEnv({
    NODE_ENV: 'test',
    APP_SECRET: 'lending-tools-test-secret-0123456789abcdef',
    DATABASE_URL: 'sqlite::memory:',
    ARCHIVE_URL: archive.url,
    LOG_LEVEL: 'silent',
    WEB_DIST: '/nonexistent-web-dist',
  });
  const app: LendingApp = createApp(config);
  let listening: Listening;
  try {
    listening = await app.listen(0, '127.0.0.1');
  } catch (error) {
    await archive.close();
    throw error;
  }
  return {
    url: listening.url,
    archive,
    async close() {
      await app.close();
      await archive.close();
    },
  };
}

/** An ordinary (not locked, verified) demo patron, by position, with S3 keys the stand-in accepts. */
export function demoPatron(index: number) {
  const patron = demoPatrons().filter((p) => !p.locked && p.verified)[index];
  if (!patron) throw new Error(`no ordinary demo patron #${index}`);
  return patron;
}

/** The identifiers of `count` books that have a free copy right now. */
export async function availableBooks(archive: RunningArchive, count: number, skip = 0): Promise<string[]> {
  const response = await fetch(
    `${archive.url}/advancedsearch.php?q=collection:inlibrary&fl[]=identifier&rows=100&output=json`,
  );
  const body = (await response.json()) as { response: { docs: { identifier: string }[] } };
  const ids = body.response.docs.map((d) => d.identifier).slice(skip, skip + count);
  if (ids.length < count) throw new Error(`the stand-in has only ${ids.length} books after skipping ${skip}`);
  return ids;
}
