import { describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, demoPatrons } from '../src/app';
import { raw, useArchive, xauthn } from './support';

const archive = useArchive();
const patrons = demoPatrons();
const demo = patrons[0]!;
const find = (email: string) => patrons.find((p) => p.email === email)!;

describe('xauthn authenticate', () => {
  it('answers the current shape with a token and the profile', async () => {
    const res = await xauthn(archive.current.url, 'authenticate', {
      email: ' Patron@Example.org ',
      password: demo.password,
    });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/application\/json/);
    expect(res.body).toEqual({
      success: true,
      version: 1,
      values: {
        token: expect.stringMatching(/^[0-9a-f]{48}$/) as unknown,
        email: 'patron@example.org',
        screenname: 'Demo Patron',
        itemname: '@demo_patron',
        verified: true,
        locked: false,
      },
    });
  });

  it('answers the legacy shape (keys in values) for the legacy patron', async () => {
    const legacy = find('legacy-xauthn@example.org');
    const res = await xauthn(archive.current.url, 'authenticate', {
      email: legacy.email,
      password: legacy.password,
    });
    expect(res.body).toEqual({
      success: true,
      version: 1,
      values: { access: legacy.access, secret: legacy.secret },
    });
  });

  it.each([
    ['nobody@example.org', 'account_not_found', 'whatever'],
    ['patron@example.org', 'account_bad_password', 'wrong password'],
    ['locked@example.org', 'account_locked', find('locked@example.org').password],
    ['unverified@example.org', 'account_not_verified', find('unverified@example.org').password],
  ])('%s -> %s', async (email, reason, password) => {
    const res = await xauthn(archive.current.url, 'authenticate', { email, password });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: false, values: { reason } });
  });

  it('does not tell a locked account from a wrong password without the password', async () => {
    const res = await xauthn(archive.current.url, 'authenticate', {
      email: 'locked@example.org',
      password: 'guess',
    });
    expect(res.body).toEqual({ success: false, values: { reason: 'account_bad_password' } });
  });
});

describe('xauthn service keys', () => {
  it.each([
    ['wrong secret', { access: DEMO_SERVICE_KEYS.access, secret: 'nope' }],
    ['wrong access', { access: 'nope', secret: DEMO_SERVICE_KEYS.secret }],
    ['missing', null],
    ['non-string', { access: 1 as unknown as string, secret: [] as unknown as string }],
  ])('%s -> 403 security_error', async (_name, service) => {
    for (const op of ['authenticate', 'info', 'issue_key']) {
      const res = await xauthn(
        archive.current.url,
        op,
        { email: demo.email, password: demo.password },
        service,
      );
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ success: false, error: 'security_error' });
    }
  });
});

describe('xauthn info', () => {
  it('finds a patron by email or by itemname', async () => {
    const byEmail = await xauthn(archive.current.url, 'info', { email: demo.email });
    const byItemname = await xauthn(archive.current.url, 'info', { itemname: demo.itemname });
    expect(byEmail.body).toEqual(byItemname.body);
    expect(byEmail.body).toEqual({
      success: true,
      version: 1,
      values: {
        email: demo.email,
        itemname: '@demo_patron',
        screenname: 'Demo Patron',
        verified: true,
        locked: false,
        has_disability_access: false,
      },
    });
  });

  it('reports an unknown patron', async () => {
    const res = await xauthn(archive.current.url, 'info', { itemname: '@nobody' });
    expect(res.body).toEqual({ success: false, values: { reason: 'account_not_found' } });
  });

  it('wants exactly one of email and itemname', async () => {
    expect((await xauthn(archive.current.url, 'info', {})).status).toBe(400);
    expect((await xauthn(archive.current.url, 'info', { email: 'a@b.c', itemname: '@x' })).status).toBe(400);
  });
});

describe('xauthn issue_key', () => {
  it('issues the patron S3 keys for the token authenticate returned', async () => {
    const login = await xauthn(archive.current.url, 'authenticate', {
      email: demo.email,
      password: demo.password,
    });
    const token = (login.body.values as { token: string }).token;
    const res = await xauthn(archive.current.url, 'issue_key', { key_type: 's3', email: demo.email, token });
    expect(res.body).toEqual({
      success: true,
      version: 1,
      s3: { access: demo.access, secret: demo.secret },
      ttl: 3600,
    });
  });

  it('refuses a missing, unknown, expired or someone else’s token', async () => {
    const login = await xauthn(archive.current.url, 'authenticate', {
      email: demo.email,
      password: demo.password,
    });
    const token = (login.body.values as { token: string }).token;
    const cases = [
      { key_type: 's3', email: demo.email },
      { key_type: 's3', email: demo.email, token: 'f'.repeat(48) },
      { key_type: 's3', email: 'reader@example.org', token },
      { key_type: 's3', itemname: '@avid_reader', token },
    ];
    for (const body of cases) {
      const res = await xauthn(archive.current.url, 'issue_key', body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ success: false, values: { reason: 'invalid_token' } });
    }
    archive.current.state.now = () => new Date(Date.now() + 2 * 60 * 60 * 1000);
    const expired = await xauthn(archive.current.url, 'issue_key', { key_type: 's3', token });
    expect(expired.status).toBe(401);
  });
});

describe('xauthn bad input is a 4xx JSON answer', () => {
  const url = () => `${archive.current.url}/services/xauthn/`;

  it.each([
    ['non-JSON body', '?op=authenticate', '{not json', 'application/json', 400],
    ['array body', '?op=authenticate', '[1,2]', 'application/json', 400],
    ['string body', '?op=authenticate', '"x"', 'application/json', 400],
    ['unknown op', '?op=create', '{}', 'application/json', 400],
    ['missing op', '', '{}', 'application/json', 400],
    ['repeated op', '?op=info&op=info', '{}', 'application/json', 400],
    [
      'huge body',
      '?op=authenticate',
      JSON.stringify({ email: 'x'.repeat(200_000) }),
      'application/json',
      413,
    ],
  ])('%s', async (_name, query, body, type, status) => {
    const res = await raw(`${url()}${query}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/application\/json/);
  });

  it('non-string email or password', async () => {
    for (const body of [
      { email: 1, password: 'x' },
      { email: 'a@b.c', password: { $ne: 1 } },
      { email: 'a@b.c' },
      { email: 'a@b.c', password: 'x'.repeat(2000) },
    ]) {
      const res = await xauthn(archive.current.url, 'authenticate', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, values: { reason: 'bad_request' } });
    }
  });

  it('GET is not allowed', async () => {
    const res = await raw(`${url()}?op=authenticate`);
    expect(res.status).toBe(405);
  });

  it('never echoes a body back in an error', async () => {
    const res = await raw(`${url()}?op=authenticate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"secret":"s3cr3t-value" oops',
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).not.toContain('s3cr3t');
  });
});
