// The login limits shared through PostgreSQL when the accounts live there and no REDIS_URL is set: two instances
// on one database count one sum, in a table of the limiter's own (never the accounts table). Skips (with a line)
// when no PostgreSQL answers, unless REQUIRE_POSTGRES=1.
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, startStack } from './helpers';
import type { Stack } from './helpers';
import { login, metricValue, metricsOf, rightLogin } from './limits-support';
import { POSTGRES_BASE_URL, freshSchema, postgresAnswers } from './postgres-support';

const { schema, databaseUrl } = freshSchema('lending_limits');

const available = await postgresAnswers('limits-postgres.test.ts');

describe.skipIf(!available)('login limits on one PostgreSQL database', () => {
  let archive: RunningArchive;
  const stacks: Stack[] = [];

  beforeAll(async () => {
    archive = await startArchive({ port: 0 });
    for (let i = 0; i < 2; i++) {
      stacks.push(
        await startStack({
          archiveUrl: archive.url,
          env: { TRUST_PROXY: 'true', DATABASE_URL: databaseUrl },
          overrides: { loginLimits: { perIp: 4, pairFreeFailures: 2 }, limitStoreTimeoutMs: 5000 },
        }),
      );
    }
  });

  afterAll(async () => {
    for (const stack of stacks) await stack.close();
    await archive.close();
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('holds the limits for the sum of two instances, in a table of its own', async () => {
    const [a, b] = stacks as [Stack, Stack];
    const from = { forwardedFor: '198.51.100.100' };
    for (const [i, stack] of [a, b, a, b].entries()) {
      expect((await login(stack.url, `pg-${i}@example.org`, 'nope-nope', from)).status).toBe(401);
    }
    expect((await login(a.url, 'pg-5@example.org', 'nope', from)).status).toBe(429);
    expect((await login(b.url, 'pg-6@example.org', 'nope', from)).status).toBe(429);
    // The pair delay, across instances.
    const pair = { forwardedFor: '198.51.100.101' };
    for (let i = 0; i < 3; i++) {
      expect((await login(i % 2 ? b.url : a.url, DEMO.email, `wrong-${i}`, pair)).status).toBe(401);
    }
    expect((await login(b.url, DEMO.email, 'wrong-4', pair)).status).toBe(429);
    // Thirty attempts at once over both instances: exactly the limit (4) gets through.
    const burst = { forwardedFor: '198.51.100.102' };
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login((i % 2 ? a : b).url, `pg-burst-${i}@example.org`, 'nope', burst),
      ),
    );
    expect(answers.filter((x) => x.status === 401).length).toBe(4);
    expect(answers.filter((x) => x.status === 429).length).toBe(26);
    // Successes spend nothing, and the patron from elsewhere logs in.
    for (let i = 0; i < 6; i++)
      expect((await rightLogin(i % 2 ? b.url : a.url, '203.0.113.100')).status).toBe(200);

    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by 1',
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toContain('lending_limits');
      // Subjects are kept as keyed hashes: no email in the table.
      const keys = await client.query<{ key: string }>(`select key from ${schema}.lending_limits`);
      expect(keys.rows.length).toBeGreaterThan(0);
      expect(JSON.stringify(keys.rows)).not.toContain('@example.org');
    } finally {
      await client.end();
    }
    const metrics = await metricsOf(a.url);
    expect(metricValue(metrics, 'lending_limiter_store_degraded', { store: 'postgres' })).toBe(0);
  }, 20_000);
});
