// What patrons' browsers open at archive.org: the cover image host (its own variable, exposed by site.config and
// the only other origin the Content-Security-Policy allows, for images), the BookReader host and the BookReader
// links' secret (ARCHIVE_BOOKREADER_URL, ARCHIVE_ACCESS_SECRET), over real HTTP.
import { DEMO_ACCESS_SECRET } from '@lending/archive';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../src/env';
import { scrub } from '../src/logger';
import { Client, dataOf, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The policy's directives by name, e.g. { 'img-src': ["'self'", 'data:', 'https://…'] }. */
function directives(policy: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of (policy ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

const demoKeys = () => Promise.resolve({ access: 'demo-access', secret: 'demo-secret' });

describe('the cover image host', () => {
  it('is the only origin besides its own that the page may load images from, on every response', async () => {
    stack = await startStack({ env: { ARCHIVE_IMAGES_URL: 'https://covers.example.org/ignored/path' } });
    for (const path of ['/', '/trpc/site.config', '/healthz', '/no-such-thing']) {
      const response = await fetch(`${stack.url}${path}`);
      const policy = directives(response.headers.get('content-security-policy'));
      expect(policy['img-src']).toEqual(["'self'", 'data:', 'https://covers.example.org']);
      // Nothing else widened: every other fetch directive stays on the page's own origin.
      expect(policy['default-src']).toEqual(["'self'"]);
      expect(Object.keys(policy).sort()).toEqual(
        [
          'base-uri',
          'default-src',
          'form-action',
          'frame-ancestors',
          'img-src',
          'object-src',
          'style-src',
        ].sort(),
      );
    }
    const config = await new Client(stack.url).query('site.config');
    expect(dataOf(config)).toEqual({ imagesUrl: 'https://covers.example.org' });
  });

  it('defaults to the archive.org URL (the stand-in serves covers too)', async () => {
    stack = await startStack();
    const response = await fetch(stack.url);
    const archiveOrigin = new URL(stack.config.archive.url).origin;
    expect(directives(response.headers.get('content-security-policy'))['img-src']).toEqual([
      "'self'",
      'data:',
      archiveOrigin,
    ]);
    expect(stack.config.archiveLinks).toEqual({
      bookreaderUrl: archiveOrigin,
      imagesUrl: archiveOrigin,
      accessSecret: DEMO_ACCESS_SECRET,
    });
  });
});

describe('configuration', () => {
  it('reads each host from its own variable', async () => {
    const config = await loadEnv(
      {
        NODE_ENV: 'test',
        APP_SECRET: 'a-perfectly-long-application-secret-value',
        ARCHIVE_URL: 'https://archive.org',
        ARCHIVE_BOOKREADER_URL: 'https://bookreader.example.org/',
        ARCHIVE_IMAGES_URL: 'https://images.example.org',
        ARCHIVE_ACCESS_SECRET: 'an-access-secret-of-some-length',
      },
      { demoServiceKeys: demoKeys },
    );
    expect(config.archiveLinks).toEqual({
      bookreaderUrl: 'https://bookreader.example.org',
      imagesUrl: 'https://images.example.org',
      accessSecret: 'an-access-secret-of-some-length',
    });
  });

  it('names a bad variable and never echoes the secret', async () => {
    const error = await loadEnv(
      {
        NODE_ENV: 'test',
        APP_SECRET: 'a-perfectly-long-application-secret-value',
        ARCHIVE_BOOKREADER_URL: 'javascript:alert(1)',
        ARCHIVE_IMAGES_URL: 'not a url',
        ARCHIVE_ACCESS_SECRET: 'short"secret',
      },
      { demoServiceKeys: demoKeys },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['ARCHIVE_BOOKREADER_URL', 'ARCHIVE_IMAGES_URL', 'ARCHIVE_ACCESS_SECRET']) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain('short"secret');
  });

  it('requires ARCHIVE_ACCESS_SECRET in production', async () => {
    const error = await loadEnv({ NODE_ENV: 'production' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('ARCHIVE_ACCESS_SECRET: required in production');
  });
});

describe('the log scrubber', () => {
  it('censors the BookReader secret and tokens wherever they appear', () => {
    const line = scrub({
      archiveLinks: { accessSecret: 'the-secret', imagesUrl: 'https://archive.org' },
      link: { token: '1-abc', iaAuthToken: '2-def', id: 'x' },
    });
    expect(JSON.stringify(line)).not.toMatch(/the-secret|1-abc|2-def/);
    expect(line.archiveLinks.imagesUrl).toBe('https://archive.org');
  });
});

describe('loans.readLink over HTTP', () => {
  it('links to the configured BookReader host, and refuses a book not on loan with not_borrowed', async () => {
    stack = await startStack({ env: { ARCHIVE_BOOKREADER_URL: 'https://reader.example.org' } });
    const client = new Client(stack.url);
    expect((await client.login()).status).toBe(200);
    const refused = await client.mutate('loans.readLink', { identifier: 'prideandprejudic00aust' });
    expect(refused.status).toBe(403);
    expect(errorOf(refused)).toMatchObject({ data: { appCode: 'not_borrowed' } });

    expect((await client.mutate('loans.borrow', { identifier: 'prideandprejudic00aust' })).status).toBe(200);
    const made = await client.mutate('loans.readLink', { identifier: 'prideandprejudic00aust' });
    expect(made.status).toBe(200);
    const { url } = dataOf<{ url: string }>(made);
    expect(url).toMatch(/^https:\/\/reader\.example\.org\/bookreader\/BookReaderAuth\.php\?uuid=loan-/);
    // The server's log has the request, never the link's tokens.
    const token = new URL(url).searchParams.get('token') ?? '';
    expect(token).toMatch(/^\d+-[0-9a-f]{32}$/);
    expect(stack.logs.join('\n')).not.toContain(token);
  });
});
