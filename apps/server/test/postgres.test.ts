// Two server instances on one PostgreSQL database: all session state lives in cookies, so a login on one
// and a borrow on the other just work. Skips (with a line) when no PostgreSQL answers, unless REQUIRE_POSTGRES=1.
import { openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, loadEnv } from '../src/app';
import type { LendingApp } from '../src/app';
import { Client, TEST_SECRET, dataOf, errorOf } from './helpers';
import { POSTGRES_BASE_URL, freshSchema, postgresAnswers } from './postgres-support';

const { schema, databaseUrl } = freshSchema('lending_server');

const available = await postgresAnswers('postgres.test.ts');

describe.skipIf(!available)('two servers on one PostgreSQL database', () => {
  let archive: RunningArchive;
  const servers: LendingApp[] = [];
  const urls: string[] = [];

  async function server(store?: AccountStore): Promise<string> {
    const config = await loadEnv({
      NODE_ENV: 'test',
      APP_SECRET: TEST_SECRET,
      DATABASE_URL: databaseUrl,
      ARCHIVE_URL: archive.url,
      LOG_LEVEL: 'silent',
    });
    const app = createApp(config, store ? { store } : {});
    servers.push(app);
    return (await app.listen(0, '127.0.0.1')).url;
  }

  beforeAll(async () => {
    archive = await startArchive({ port: 0 });
    urls.push(await server(), await server());
  });

  afterAll(async () => {
    for (const app of servers) await app.close();
    await archive.close();
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('logs in on one and borrows on the other', async () => {
    const [a, b] = urls as [string, string];
    const onA = new Client(a);
    expect((await onA.login()).status).toBe(200);
    const onB = new Client(b);
    for (const [name, value] of onA.cookies) onB.cookies.set(name, value);
    const borrowed = await onB.mutate('loans.borrow', { identifier: 'greatexpectation00dick' });
    expect(borrowed.status).toBe(200);
    const loansOnA = dataOf<{ identifier: string }[]>(await onA.query('loans.list'));
    expect(loansOnA.map((l) => l.identifier)).toContain('greatexpectation00dick');
    expect((await onB.mutate('loans.return', { identifier: 'greatexpectation00dick' })).status).toBe(200);
  });

  it('a logout on one ends the session on the other, and log out everywhere every session', async () => {
    const [a, b] = urls as [string, string];
    const onA = new Client(a);
    expect((await onA.login()).status).toBe(200);
    const onB = new Client(b);
    for (const [name, value] of onA.cookies) onB.cookies.set(name, value);
    expect((await onB.query('loans.list')).status).toBe(200);
    expect((await onA.mutate('auth.logout')).status).toBe(200);
    expect((await onB.query('loans.list')).status).toBe(401);

    const first = new Client(a);
    const second = new Client(b);
    await first.login();
    await second.login();
    // These two, and any session of the same patron an earlier test left open.
    const ended = dataOf<{ ok: true; sessions: number }>(await second.mutate('auth.logoutEverywhere'));
    expect(ended.sessions).toBeGreaterThanOrEqual(2);
    expect(dataOf(await first.query('account.me'))).toBeNull();
  });

  it('answers 503 and shows the database down when the pool is gone', async () => {
    const store = await openAccountStore(databaseUrl);
    const url = await server(store);
    const client = new Client(url);
    expect((await client.login()).status).toBe(200);
    await store.close();
    const me = await client.query('account.me');
    expect(me.status).toBe(503);
    expect(errorOf(me).data.code).toBe('SERVICE_UNAVAILABLE');
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, database: 'down' });
  });
});
