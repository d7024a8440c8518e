import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, REPO_ROOT, loadEnv, parseDuration } from './env';

const SECRET = 'a-perfectly-long-application-secret-value';
const demoKeys = () => Promise.resolve({ access: 'demo-access', secret: 'demo-secret' });
const demoToken = () => Promise.resolve('demo-loan-api-token');
const base = { NODE_ENV: 'test', APP_SECRET: SECRET };

async function failure(env: Record<string, string>): Promise<ConfigError> {
  const error = await loadEnv(env, { demoServiceKeys: demoKeys }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadEnv', () => {
  it('has the documented defaults', async () => {
    const config = await loadEnv(base, { demoServiceKeys: demoKeys });
    expect(config).toMatchObject({
      nodeEnv: 'test',
      port: 3000,
      host: '127.0.0.1',
      appSecret: SECRET,
      appSecretPrevious: [],
      databaseUrl: 'sqlite:./data/lending.db',
      archive: {
        url: 'http://127.0.0.1:3001',
        serviceAccess: 'demo-access',
        serviceSecret: 'demo-secret',
        timeoutMs: 5000,
      },
      sessionTtl: 86400,
      s3CookieFormat: 'lending',
      trustProxy: false,
      logLevel: 'info',
      webDist: path.join(REPO_ROOT, 'apps/web/dist'),
    });
  });

  it('uses the stand-in service keys by default outside production', async () => {
    const { DEMO_SERVICE_KEYS } = await import('@lending/archive');
    const config = await loadEnv(base);
    expect(config.archive.serviceAccess).toBe(DEMO_SERVICE_KEYS.access);
  });

  it('parses every variable', async () => {
    const config = await loadEnv(
      {
        ...base,
        PORT: '8080',
        HOST: '0.0.0.0',
        APP_SECRET_PREVIOUS: ' old-one , ,old-two ',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        ARCHIVE_URL: 'https://archive.org/',
        ARCHIVE_SERVICE_ACCESS: 'acc',
        ARCHIVE_SERVICE_SECRET: 'sec',
        ARCHIVE_TIMEOUT_MS: '1500',
        SESSION_TTL: '30m',
        S3_COOKIE_FORMAT: 'openlibrary',
        TRUST_PROXY: 'yes',
        LOG_LEVEL: 'warn',
        WEB_DIST: '/srv/web',
      },
      { demoServiceKeys: demoKeys },
    );
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      appSecretPrevious: ['old-one', 'old-two'],
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      archive: { url: 'https://archive.org', serviceAccess: 'acc', serviceSecret: 'sec', timeoutMs: 1500 },
      sessionTtl: 1800,
      s3CookieFormat: 'openlibrary',
      trustProxy: true,
      logLevel: 'warn',
      webDist: '/srv/web',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ARCHIVE_URL', 'ftp://example.org'],
    ['ARCHIVE_TIMEOUT_MS', '0'],
    ['SESSION_TTL', 'forever'],
    ['SESSION_TTL', '0'],
    ['S3_COOKIE_FORMAT', 'python'],
    ['TRUST_PROXY', 'maybe'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['ANONYMOUS_RATE', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://root:hunter2@db/lending'],
  ])('stops on a bad %s naming the variable', async (name, value) => {
    const error = await failure({ ...base, [name]: value });
    expect(error.message).toContain(name);
  });

  it('reads the proxy trust and the shared limit store', async () => {
    const direct = await loadEnv(base, { demoServiceKeys: demoKeys });
    expect(direct.proxyTrust).toEqual({ mode: 'none' });
    expect(direct.redis).toBeNull();
    const hops = await loadEnv(
      { ...base, TRUST_PROXY: 'true', PROXY_HOPS: '2', REDIS_URL: 'redis://127.0.0.1:6379/2' },
      { demoServiceKeys: demoKeys },
    );
    expect(hops.proxyTrust).toEqual({ mode: 'hops', hops: 2 });
    expect(hops.redis).toEqual({ url: 'redis://127.0.0.1:6379/2', prefix: 'lending:' });
    const listed = await loadEnv(
      { ...base, TRUST_PROXY: 'true', TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' },
      { demoServiceKeys: demoKeys },
    );
    expect(listed.proxyTrust).toMatchObject({ mode: 'list', description: ['10.0.0.0/8', 'fd00::/8'] });
    const loopback = await loadEnv({ ...base, TRUST_PROXY: 'true' }, { demoServiceKeys: demoKeys });
    expect(loopback.proxyTrust).toMatchObject({ mode: 'list', description: ['127.0.0.0/8', '::1'] });
  });

  it.each([
    [{ TRUSTED_PROXIES: '10.0.0.1' }, 'TRUSTED_PROXIES'],
    [{ PROXY_HOPS: '1' }, 'PROXY_HOPS'],
    [{ TRUST_PROXY: 'true', PROXY_HOPS: '1', TRUSTED_PROXIES: '10.0.0.1' }, 'PROXY_HOPS'],
    [{ TRUST_PROXY: 'true', TRUSTED_PROXIES: 'proxy.example' }, 'TRUSTED_PROXIES'],
  ])('stops on a proxy setting that cannot work: %o', async (vars, name) => {
    const error = await failure({ ...base, ...vars });
    expect(error.message).toContain(name);
  });

  it('never prints a secret value', async () => {
    const short = 'short-secret-value';
    const error = await failure({ ...base, APP_SECRET: short });
    expect(error.message).toContain('APP_SECRET');
    expect(error.message).not.toContain(short);
    const db = await failure({ ...base, DATABASE_URL: 'mysql://root:hunter2@db/lending' });
    expect(db.message).not.toContain('hunter2');
  });

  it('requires APP_SECRET and the service keys in production', async () => {
    const error = await failure({ NODE_ENV: 'production' });
    expect(error.message).toContain('APP_SECRET');
    expect(error.message).toContain('ARCHIVE_SERVICE_ACCESS');
    expect(error.message).toContain('ARCHIVE_SERVICE_SECRET');
    expect(error.message).toContain('ARCHIVE_LOAN_API_TOKEN');
  });

  it('gives each archive.org service its own URL, defaulting to its path under ARCHIVE_URL', async () => {
    const defaults = await loadEnv(
      { ...base, ARCHIVE_URL: 'https://ia.example/' },
      { demoServiceKeys: demoKeys, demoLoanApiToken: demoToken },
    );
    expect(defaults.archive).toMatchObject({
      loanApiToken: 'demo-loan-api-token',
      maxConcurrent: 16,
      maxQueue: 64,
      cacheSeconds: 20,
      endpoints: {
        xauthn: 'https://ia.example/services/xauthn/',
        s3auth: 'https://ia.example/services/s3auth/',
        loans: 'https://ia.example/services/loans/loan/',
        lendingApi: 'https://ia.example/services/openlibrary.php',
        availability: 'https://ia.example/services/availability/',
        search: 'https://ia.example/advancedsearch.php',
        bookreader: 'https://ia.example',
      },
    });
    const configured = await loadEnv(
      {
        ...base,
        ARCHIVE_XAUTHN_URL: 'https://x.example/xauthn/',
        ARCHIVE_S3AUTH_URL: 'https://s.example/s3auth/',
        ARCHIVE_LOAN_URL: 'https://l.example/loan/',
        ARCHIVE_LENDING_API_URL: 'https://private.example/lending.php',
        ARCHIVE_AVAILABILITY_URL: 'https://a.example/v2/',
        ARCHIVE_SEARCH_URL: 'https://search.example/advancedsearch.php',
        ARCHIVE_BOOKREADER_URL: 'https://reader.example/',
        ARCHIVE_LOAN_API_TOKEN: 'a-shared-token-of-enough-length',
        ARCHIVE_MAX_CONCURRENT: '4',
        ARCHIVE_MAX_QUEUE: '8',
        ARCHIVE_CACHE_SECONDS: '0',
      },
      { demoServiceKeys: demoKeys, demoLoanApiToken: demoToken },
    );
    expect(configured.archive).toMatchObject({
      loanApiToken: 'a-shared-token-of-enough-length',
      maxConcurrent: 4,
      maxQueue: 8,
      cacheSeconds: 0,
      endpoints: {
        xauthn: 'https://x.example/xauthn/',
        s3auth: 'https://s.example/s3auth/',
        loans: 'https://l.example/loan/',
        lendingApi: 'https://private.example/lending.php',
        availability: 'https://a.example/v2/',
        search: 'https://search.example/advancedsearch.php',
        bookreader: 'https://reader.example',
      },
    });
    const bad = await failure({
      ...base,
      ARCHIVE_LENDING_API_URL: 'ftp://x',
      ARCHIVE_LOAN_API_TOKEN: 'short',
    });
    expect(bad.message).toContain('ARCHIVE_LENDING_API_URL');
    expect(bad.message).toContain('ARCHIVE_LOAN_API_TOKEN');
    expect(bad.message).not.toContain('short');
  });

  it('generates a development secret once, mode 0600, and reuses it', async () => {
    const secretFile = path.join(mkdtempSync(path.join(tmpdir(), 'lending-env-')), 'data', 'app-secret');
    const first = await loadEnv({ NODE_ENV: 'development' }, { secretFile, demoServiceKeys: demoKeys });
    expect(first.appSecret.length).toBeGreaterThanOrEqual(32);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, 'utf8').trim()).toBe(first.appSecret);
    const second = await loadEnv({ NODE_ENV: 'development' }, { secretFile, demoServiceKeys: demoKeys });
    expect(second.appSecret).toBe(first.appSecret);
  });
});

describe('loadEnv: PostgreSQL pool and timeouts, metrics, shutdown', () => {
  it('has the documented defaults', async () => {
    const config = await loadEnv(base, { demoServiceKeys: demoKeys });
    expect(config.database).toEqual({
      poolMax: 10,
      statementTimeoutMs: 5000,
      lockTimeoutMs: 2000,
      queryTimeoutMs: 6000,
      connectTimeoutMs: 2000,
    });
    expect(config.metrics).toEqual({ port: undefined, host: '127.0.0.1', token: undefined });
    expect(config.shutdown).toEqual({ delayMs: 0, timeoutMs: 15_000 });
  });

  it('parses them', async () => {
    const config = await loadEnv(
      {
        ...base,
        DATABASE_POOL_MAX: '25',
        DATABASE_STATEMENT_TIMEOUT_MS: '10000',
        DATABASE_LOCK_TIMEOUT_MS: '500',
        DATABASE_QUERY_TIMEOUT_MS: '12000',
        DATABASE_CONNECT_TIMEOUT_MS: '3000',
        METRICS_PORT: '9464',
        METRICS_HOST: '10.0.0.5',
        METRICS_TOKEN: 'a-metrics-token-of-some-length',
        SHUTDOWN_DELAY_MS: '5000',
        SHUTDOWN_TIMEOUT_MS: '30000',
      },
      { demoServiceKeys: demoKeys },
    );
    expect(config.database).toEqual({
      poolMax: 25,
      statementTimeoutMs: 10_000,
      lockTimeoutMs: 500,
      queryTimeoutMs: 12_000,
      connectTimeoutMs: 3000,
    });
    expect(config.metrics).toEqual({ port: 9464, host: '10.0.0.5', token: 'a-metrics-token-of-some-length' });
    expect(config.shutdown).toEqual({ delayMs: 5000, timeoutMs: 30_000 });
  });

  it('names each bad value, and never prints the metrics token', async () => {
    const error = await failure({
      ...base,
      DATABASE_POOL_MAX: '0',
      DATABASE_QUERY_TIMEOUT_MS: 'soon',
      METRICS_PORT: '70000',
      METRICS_TOKEN: 'short-tok',
    });
    for (const name of ['DATABASE_POOL_MAX', 'DATABASE_QUERY_TIMEOUT_MS', 'METRICS_PORT', 'METRICS_TOKEN']) {
      expect(error.message).toContain(name);
    }
    expect(error.message).not.toContain('short-tok');
  });
});

describe('parseDuration', () => {
  it.each([
    ['86400', 86400],
    ['90s', 90],
    ['30m', 1800],
    ['24h', 86400],
    ['7d', 604800],
    ['24x', null],
    ['', null],
    ['-5', null],
  ])('%s -> %s', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});
