import { describe, expect, it } from 'vitest';
import { OTP_ISSUE_LIMITS, OTP_MAX_TRIES, OTP_TTL_MS, demoPatrons } from '../src/app';
import { raw, useArchive, xauthn } from './support';

const lines: string[] = [];
const archive = useArchive({ log: (line) => lines.push(line) });
const patrons = demoPatrons();
const find = (email: string) => patrons.find((p) => p.email === email)!;
const demo = find('patron@example.org');

let ipCounter = 0;
/** A fresh originating IP per call unless given, so the per-IP limit stays out of tests about other things. */
const issue = (email: unknown, ip = `192.0.2.${(ipCounter = (ipCounter % 250) + 1)}`) =>
  xauthn(archive.current.url, 'issue_otp', { email, service: 'ol' }, undefined, { 'x-originating-ip': ip });
const redeem = (email: string, password: string) =>
  xauthn(archive.current.url, 'redeem_otp', { email, password }, undefined, {
    'x-originating-ip': '192.0.2.1',
  });
const codeFor = (email: string) => archive.current.outbox.latestCode(email);

describe('xauthn issue_otp', () => {
  it('answers {success:true} and "emails" a fresh 6-digit code to the account', async () => {
    lines.length = 0;
    const res = await issue(' Patron@Example.org ');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ success: true, version: 1 });
    const code = codeFor(demo.email);
    expect(code).toMatch(/^\d{6}$/);
    const [message] = archive.current.outbox.list(demo.email);
    expect(message).toEqual({
      to: demo.email,
      subject: 'Your one-time login code',
      text: `Your one-time login code is ${code}. It expires in 10 minutes and works once.`,
      code,
      sentAt: expect.any(String) as unknown,
    });
    expect(lines).toEqual([
      `[outbox] one-time login code for ${demo.email}: ${code} (development only; also GET /_dev/outbox)`,
    ]);
  });

  it('answers an unknown email exactly like a known one, and sends nothing', async () => {
    const known = await issue(demo.email);
    const unknown = await issue('nobody@example.org');
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);
    expect([...unknown.headers.keys()].sort()).toEqual([...known.headers.keys()].sort());
    expect(archive.current.outbox.list('nobody@example.org')).toEqual([]);
  });

  it('issues a new code each time; only the newest works', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      await issue(demo.email);
      seen.add(codeFor(demo.email)!);
    }
    expect(seen.size).toBeGreaterThan(1);
    const messages = archive.current.outbox.list(demo.email);
    expect(messages).toHaveLength(4);
    const older = messages.slice(1).find((m) => m.code !== messages[0]!.code);
    if (older) expect((await redeem(demo.email, older.code)).body).toMatchObject({ error: 'invalid_otp' });
    expect((await redeem(demo.email, messages[0]!.code)).body.success).toBe(true);
  });

  it(`limits codes per email (${OTP_ISSUE_LIMITS.perEmail} per window), for unknown emails alike, with 429`, async () => {
    for (const email of [demo.email, 'nobody@example.org']) {
      for (let i = 0; i < OTP_ISSUE_LIMITS.perEmail; i += 1) expect((await issue(email)).status).toBe(200);
      const limited = await issue(email);
      expect(limited.status).toBe(429);
      expect(limited.body).toEqual({ success: false, version: 1, error: 'rate_limited', code: 429 });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(
        OTP_ISSUE_LIMITS.windowMs / 1000,
      );
    }
    expect(archive.current.outbox.list(demo.email)).toHaveLength(OTP_ISSUE_LIMITS.perEmail);
    // Another email is not affected; the window passes.
    expect((await issue('reader@example.org')).status).toBe(200);
    archive.current.state.now = () => new Date(Date.now() + OTP_ISSUE_LIMITS.windowMs + 1000);
    expect((await issue(demo.email)).status).toBe(200);
  });

  it(`limits codes per originating IP (${OTP_ISSUE_LIMITS.perIp} per window) without spending the email’s`, async () => {
    const ip = '2001:db8::7';
    for (let i = 0; i < OTP_ISSUE_LIMITS.perIp; i += 1) {
      expect((await issue(`spray${i}@example.org`, ip)).status).toBe(200);
    }
    expect((await issue(demo.email, ip)).status).toBe(429);
    expect(archive.current.outbox.list(demo.email)).toEqual([]);
    // The refused attempt did not count against the patron's own allowance.
    for (let i = 0; i < OTP_ISSUE_LIMITS.perEmail; i += 1) expect((await issue(demo.email)).status).toBe(200);
  });

  it('wants the service keys, an email and an IP address in X-Originating-IP', async () => {
    const noKeys = await xauthn(archive.current.url, 'issue_otp', { email: demo.email }, null);
    expect(noKeys.status).toBe(403);
    for (const email of [undefined, '', 'not-an-email', 42, ['a@b.c'], `${'x'.repeat(250)}@example.org`]) {
      const res = await issue(email);
      expect(res.status, JSON.stringify(email)).toBe(400);
      expect(res.body).toMatchObject({ success: false, values: { reason: 'bad_request' } });
    }
    const badIp = await issue(demo.email, 'not-an-ip');
    expect(badIp.status).toBe(400);
    const noIp = await xauthn(archive.current.url, 'issue_otp', { email: demo.email, service: 'ol' });
    expect(noIp.status).toBe(200);
  });
});

describe('xauthn redeem_otp', () => {
  it('answers the account and a token issue_key takes, and the code works once', async () => {
    await issue(demo.email);
    const code = codeFor(demo.email)!;
    const res = await redeem(' PATRON@example.org', code);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      version: 1,
      values: {
        email: demo.email,
        itemname: demo.itemname,
        screenname: demo.screenname,
        token: expect.stringMatching(/^[0-9a-f]{48}$/) as unknown,
      },
    });
    const token = (res.body.values as { token: string }).token;
    const keys = await xauthn(archive.current.url, 'issue_key', {
      key_type: 's3',
      email: demo.email,
      issuer_token: token,
    });
    expect(keys.body).toEqual({
      success: true,
      version: 1,
      s3: { access: demo.access, secret: demo.secret },
      ttl: 3600,
    });

    const again = await redeem(demo.email, code);
    expect(again.body).toEqual({
      success: false,
      version: 1,
      error: 'invalid_otp',
      values: { reason: 'invalid_otp' },
    });
  });

  it('carries the keys themselves for a patron whose xauthn answers the legacy shape', async () => {
    const legacy = find('legacy-xauthn@example.org');
    await issue(legacy.email);
    const res = await redeem(legacy.email, codeFor(legacy.email)!);
    expect(res.body.values).toMatchObject({ s3: { access: legacy.access, secret: legacy.secret } });
  });

  it('refuses an expired code', async () => {
    await issue(demo.email);
    const code = codeFor(demo.email)!;
    archive.current.state.now = () => new Date(Date.now() + OTP_TTL_MS + 1000);
    expect((await redeem(demo.email, code)).body).toMatchObject({ success: false, error: 'invalid_otp' });
  });

  it(`burns the code after ${OTP_MAX_TRIES} wrong tries`, async () => {
    await issue(demo.email);
    const code = codeFor(demo.email)!;
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < OTP_MAX_TRIES; i += 1) {
      expect((await redeem(demo.email, wrong)).body).toMatchObject({ error: 'invalid_otp' });
    }
    expect((await redeem(demo.email, code)).body).toMatchObject({ success: false, error: 'invalid_otp' });
    // Fewer wrong tries leave the code usable.
    await issue(demo.email);
    const next = codeFor(demo.email)!;
    for (let i = 0; i < OTP_MAX_TRIES - 1; i += 1)
      await redeem(demo.email, next === '123456' ? '654321' : '123456');
    expect((await redeem(demo.email, next)).body.success).toBe(true);
  });

  it('answers an unknown email, a code of another email, or garbage like a wrong code', async () => {
    await issue(demo.email);
    const code = codeFor(demo.email)!;
    for (const [email, password] of [
      ['nobody@example.org', code],
      ['reader@example.org', code],
      [demo.email, ''],
      [demo.email, 'abcdef'],
      [demo.email, `${code}0`],
    ] as const) {
      const res = await redeem(email, password);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: false,
        version: 1,
        error: 'invalid_otp',
        values: { reason: 'invalid_otp' },
      });
    }
  });

  it('uses up the right code of a locked or unverified account and refuses it as authenticate does', async () => {
    for (const [email, reason] of [
      ['locked@example.org', 'account_locked'],
      ['unverified@example.org', 'account_not_verified'],
    ] as const) {
      const issued = await issue(email);
      expect(issued.body).toEqual({ success: true, version: 1 });
      const code = codeFor(email)!;
      expect((await redeem(email, code)).body).toEqual({
        success: false,
        version: 1,
        error: reason,
        values: { reason },
      });
      expect((await redeem(email, code)).body).toMatchObject({ error: 'invalid_otp' });
    }
  });

  it('answers malformed input with 400', async () => {
    for (const body of [
      {},
      { email: demo.email },
      { email: 1, password: '123456' },
      { email: demo.email, password: ['1'] },
    ]) {
      const res = await xauthn(archive.current.url, 'redeem_otp', body);
      expect(res.status).toBe(400);
    }
    const badIp = await xauthn(
      archive.current.url,
      'redeem_otp',
      { email: demo.email, password: '123456' },
      undefined,
      {
        'x-originating-ip': '999.1.1.1',
      },
    );
    expect(badIp.status).toBe(400);
  });
});

describe('the outbox endpoint (development)', () => {
  it('lists the codes sent, newest first, per email', async () => {
    await issue(demo.email);
    await issue('reader@example.org');
    const all = await raw(`${archive.current.url}/_dev/outbox`);
    expect(all.status).toBe(200);
    expect(all.headers.get('cache-control')).toBe('no-store');
    expect((all.body.messages as { to: string }[]).map((m) => m.to)).toEqual([
      'reader@example.org',
      demo.email,
    ]);
    const mine = await raw(`${archive.current.url}/_dev/outbox?email=Patron@Example.org`);
    expect(mine.body.messages).toEqual([
      expect.objectContaining({ to: demo.email, code: codeFor(demo.email) }),
    ]);
    expect((await raw(`${archive.current.url}/_dev/outbox?email=a&email=b`)).status).toBe(400);
  });
});
