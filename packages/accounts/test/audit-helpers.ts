// Shared by the audit, S3-key and archive-client integration tests: the stand-in on port 0, and both store
// adapters (SQLite on a temp file; PostgreSQL on a random schema, dropped after). The store tests take the
// PostgreSQL URL and probe from here too.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS, startArchive, type RunningArchive } from '@lending/archive';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { ArchiveClient } from '../src/archive-client';
import { openAccountStore } from '../src/store/index';
import type { AccountStore } from '../src/types';

export const pgUrl = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
export const requirePostgres = process.env.REQUIRE_POSTGRES === '1';

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

interface Adapter {
  name: 'SQLite' | 'PostgreSQL';
  open(): Promise<{ store: AccountStore; dispose(): Promise<void> }>;
}

const sqlite: Adapter = {
  name: 'SQLite',
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lending-audit-'));
    const store = await openAccountStore(`sqlite:${join(dir, 'accounts.db')}`);
    return {
      store,
      dispose: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Adapter = {
  name: 'PostgreSQL',
  open: async () => {
    const schema = `lending_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(pgUrl);
    url.searchParams.set('schema', schema);
    const store = await openAccountStore(url.toString());
    return {
      store,
      dispose: async () => {
        await store.close();
        await dropSchema(schema);
      },
    };
  },
};

/** Why no PostgreSQL server answered at pgUrl, or null when one did. */
export const pgProblem = await probePostgres();

/**
 * Runs `suite` once per store adapter, with a fresh, empty store for every test (`ctx.store`). Without a PostgreSQL server the
 * PostgreSQL run is skipped with a printed line, unless REQUIRE_POSTGRES=1 makes that a failure.
 */
export function describeWithStores(
  title: string,
  suite: (ctx: { readonly store: AccountStore }) => void,
): void {
  for (const adapter of [sqlite, postgres]) {
    if (adapter === postgres && pgProblem !== null) {
      if (requirePostgres) {
        describe(`${title} (PostgreSQL)`, () => {
          it('needs a PostgreSQL server (REQUIRE_POSTGRES=1)', () => {
            throw new Error(`PostgreSQL is required but did not answer: ${pgProblem}`);
          });
        });
      } else {
        console.log(`${title} (PostgreSQL) skipped: no server answered at DATABASE_URL_TEST (${pgProblem})`);
        // Skipped on purpose: no PostgreSQL server here and REQUIRE_POSTGRES is not set.
        describe.skip(`${title} (PostgreSQL, no server)`, () => {
          it('runs when a server answers', () => undefined);
        });
      }
      continue;
    }
    describe(`${title} (${adapter.name})`, () => {
      let opened: Awaited<ReturnType<Adapter['open']>> | null = null;
      beforeEach(async () => {
        opened = await adapter.open();
      });
      afterEach(async () => {
        await opened?.dispose();
        opened = null;
      });
      suite({
        get store() {
          if (!opened) throw new Error('store not open');
          return opened.store;
        },
      });
    });
  }
}

/** The stand-in on port 0 for the file, reset before each test by the caller if needed. */
export function useArchive(): {
  readonly current: RunningArchive;
  client(timeoutMs?: number): ArchiveClient;
} {
  let running: RunningArchive | null = null;
  beforeAll(async () => {
    running = await startArchive({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await running?.close();
  });
  const current = () => {
    if (!running) throw new Error('archive not started');
    return running;
  };
  return {
    get current() {
      return current();
    },
    client: (timeoutMs = 3000) =>
      new ArchiveClient({
        baseUrl: current().url,
        serviceAccess: DEMO_SERVICE_KEYS.access,
        serviceSecret: DEMO_SERVICE_KEYS.secret,
        loanApiToken: DEMO_LOAN_API_TOKEN,
        timeoutMs,
      }),
  };
}
