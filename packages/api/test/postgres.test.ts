// The same procedures on the PostgreSQL store: a login, a borrow with the cookie, and the store fallback.
import { randomBytes } from 'node:crypto';
import { seedLegacyAccounts } from '@lending/accounts';
import { openCookie, sealCookie } from '@lending/crypto';
import { demoPatrons, legacyAccountSeeds } from '@lending/archive';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './harness';
import { DAY, startHarness } from './harness';

const baseUrl = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `api_test_${randomBytes(6).toString('hex')}`;

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const available = await postgresAnswers();
if (!available) {
  if (process.env.REQUIRE_POSTGRES === '1')
    throw new Error(`REQUIRE_POSTGRES=1 but no PostgreSQL answers at ${baseUrl}`);
  console.log(`[api] PostgreSQL tests skipped: no server answers at ${baseUrl}`);
}

describe.skipIf(!available)('procedures on PostgreSQL', () => {
  let h: Harness;
  beforeAll(async () => {
    const separator = baseUrl.includes('?') ? '&' : '?';
    h = await startHarness({ databaseUrl: `${baseUrl}${separator}schema=${schema}` });
    await seedLegacyAccounts(h.store, legacyAccountSeeds());
  });
  afterAll(async () => {
    await h?.close();
    const client = new pg.Client({ connectionString: baseUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  it('logs in, borrows with the s3 cookie and returns', async () => {
    const demo = demoPatrons().find((p) => p.email === 'patron@example.org');
    if (!demo) throw new Error('demo patron missing');
    const browser = h.browser();
    const me = await browser.call().auth.login({ email: demo.email, password: demo.password });
    expect(me.keysSource).toBe('cookie');
    await expect(browser.call().loans.borrow({ identifier: 'treasureisland00stev' })).resolves.toMatchObject({
      ok: true,
      loan: { identifier: 'treasureisland00stev' },
    });
    await expect(browser.call().loans.return({ identifier: 'treasureisland00stev' })).resolves.toEqual({
      ok: true,
    });
    expect(h.recorder.sources).toEqual(['cookie', 'cookie']);
    expect((await h.store.getByUsername(me.username))?.s3Keys).toBeUndefined();
  });

  it('serves a pre-change session from the store and re-issues the s3 cookie', async () => {
    const [seed] = legacyAccountSeeds();
    if (!seed) throw new Error('no legacy seed');
    const browser = h.browser();
    const now = Math.floor(h.clock / 1000);
    // A live session of the account, as a login would have recorded it.
    await h.store.addSession(seed.username, { id: 'pg-session', expiresAt: now + 3600 }, { now, max: 20 });
    browser.jar.values.set(
      'session',
      sealCookie(
        h.deps.cookieKeys,
        { pur: 'session', sub: seed.username, rem: false, sid: 'pg-session', iat: now },
        { now },
      ),
    );
    h.recorder.reset();
    await expect(browser.call().loans.list()).resolves.toEqual([]);
    expect(h.recorder.sources).toEqual(['store']);
    const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: seed.username,
      ttl: DAY,
      now,
    });
    expect(s3).toMatchObject({ ok: true, payload: seed.s3Keys });
  });
});
