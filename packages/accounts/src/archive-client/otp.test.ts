// issue_otp and redeem_otp as Open Library sends them (openlibrary/accounts/model.py), against scripted answers.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { ArchiveClient } from './client';

function scripted(answer: () => Response) {
  const calls: { url: string; headers: Headers; body: string }[] = [];
  const client = new ArchiveClient({
    baseUrl: 'https://archive.example/',
    serviceAccess: 'SVCACCESS',
    serviceSecret: 'SVCSECRET',
    timeoutMs: 1000,
    fetch: (input, init) => {
      calls.push({
        url: input instanceof Request ? input.url : input.toString(),
        headers: new Headers(init?.headers),
        body: typeof init?.body === 'string' ? init.body : '',
      });
      return Promise.resolve(answer());
    },
  });
  return { client, calls };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('ArchiveClient one-time codes', () => {
  it('issue_otp: email lower-cased, service "ol", service keys, the patron address in X-Originating-IP', async () => {
    const { client, calls } = scripted(() => Response.json({ success: true, version: 1 }));
    await client.issueOtp(' Patron@Example.ORG ', '203.0.113.9');
    expect(calls[0]!.url).toBe('https://archive.example/services/xauthn/?op=issue_otp');
    expect(JSON.parse(calls[0]!.body)).toEqual({
      email: 'patron@example.org',
      service: 'ol',
      access: 'SVCACCESS',
      secret: 'SVCSECRET',
    });
    expect(calls[0]!.headers.get('x-originating-ip')).toBe('203.0.113.9');
    // Not an IP address: no header rather than a wrong one.
    await client.issueOtp('patron@example.org', 'not-an-ip');
    expect(calls[1]!.headers.has('x-originating-ip')).toBe(false);
  });

  it('issue_otp: a 429 (by status or by the body code, as OL reads it) is rate_limited with Retry-After', async () => {
    const byStatus = scripted(
      () =>
        new Response(JSON.stringify({ success: false, error: 'rate_limited', code: 429 }), {
          status: 429,
          headers: { 'retry-after': '120' },
        }),
    );
    const error = await failure(byStatus.client.issueOtp('a@b.co', null));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBe(120);
    const byBody = scripted(() => Response.json({ success: false, error: 'rate_limited', code: 429 }));
    expect((await failure(byBody.client.issueOtp('a@b.co', null))).retryAfterSeconds).toBe(60);
  });

  it('issue_otp: any other refusal or odd answer is archive_unavailable', async () => {
    for (const answer of [
      () => Response.json({ success: false, error: 'otp_issue_failed' }),
      () => new Response('<html>', { status: 200 }),
      () => Response.json({ ok: 1 }),
      () => new Response('{}', { status: 400 }),
    ]) {
      expect((await failure(scripted(answer).client.issueOtp('a@b.co', null))).code).toBe(
        'archive_unavailable',
      );
    }
    expect(
      (await failure(scripted(() => new Response('', { status: 403 })).client.issueOtp('a@b.co', null))).code,
    ).toBe('archive_misconfigured');
  });

  it('redeem_otp: the code as `password`; the token, or the legacy keys; refusal reasons kept as words', async () => {
    const ok = scripted(() =>
      Response.json({
        success: true,
        version: 1,
        values: { email: 'a@b.co', itemname: '@a', screenname: 'A', token: 'T' },
      }),
    );
    expect(await ok.client.redeemOtp('A@B.co', '123456', '::1')).toEqual({
      success: true,
      email: 'a@b.co',
      token: 'T',
      s3Keys: null,
    });
    expect(JSON.parse(ok.calls[0]!.body)).toMatchObject({ email: 'a@b.co', password: '123456' });
    expect(ok.calls[0]!.headers.get('x-originating-ip')).toBe('::1');

    const legacy = scripted(() =>
      Response.json({ success: true, values: { token: 'T', s3: { access: 'AK', secret: 'SK' } } }),
    );
    expect(await legacy.client.redeemOtp('a@b.co', '1', null)).toMatchObject({
      s3Keys: { access: 'AK', secret: 'SK' },
    });

    for (const [body, reason] of [
      [{ success: false, error: 'invalid_otp' }, 'invalid_otp'],
      [
        { success: false, version: 1, error: 'invalid_otp', values: { reason: 'account_locked' } },
        'account_locked',
      ],
      [{ success: false }, 'invalid_otp'],
      [{ success: false, error: 'Not <b>a</b> word' }, 'unrecognised_reason'],
    ] as const) {
      expect(await scripted(() => Response.json(body)).client.redeemOtp('a@b.co', '1', null)).toEqual({
        success: false,
        reason,
      });
    }
  });
});
