import { describe, expect, it } from 'vitest';
import { defaultFixture, demoPatrons, startArchive } from '../src/app';
import { keysOf, loan, raw, useArchive, xauthn } from './support';

const lenient = useArchive();
const strict = useArchive({ strictProtocol: true });
const demo = demoPatrons()[0]!;

async function tokenFor(base: string): Promise<string> {
  const login = await xauthn(base, 'authenticate', { email: demo.email, password: demo.password });
  return (login.body.values as { token: string }).token;
}

describe('strictProtocol', () => {
  it('refuses the invented loans action user_loans with 400, which the lenient stand-in still serves', async () => {
    await loan(lenient.current.url, 'borrow_book', 'draculabram00stok', keysOf(demo));
    const served = await loan(lenient.current.url, 'user_loans', null, keysOf(demo));
    expect(served.status).toBe(200);
    expect((served.body.loans as { identifier: string }[]).map((l) => l.identifier)).toEqual([
      'draculabram00stok',
    ]);

    await loan(strict.current.url, 'borrow_book', 'draculabram00stok', keysOf(demo));
    const refused = await loan(strict.current.url, 'user_loans', null, keysOf(demo));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: 'bad_request', detail: 'action or identifier invalid' });
  });

  it('refuses issue_key’s old field name token with 400; issuer_token works in both', async () => {
    for (const archive of [lenient, strict]) {
      const issued = await xauthn(archive.current.url, 'issue_key', {
        key_type: 's3',
        issuer_token: await tokenFor(archive.current.url),
      });
      expect(issued.body).toMatchObject({ success: true, s3: { access: demo.access } });
    }
    const old = { key_type: 's3', token: await tokenFor(lenient.current.url) };
    expect((await xauthn(lenient.current.url, 'issue_key', old)).body).toMatchObject({ success: true });
    const refused = await xauthn(strict.current.url, 'issue_key', {
      key_type: 's3',
      token: await tokenFor(strict.current.url),
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ success: false, values: { reason: 'bad_request' } });
  });

  it('serves every real action the same in both modes', async () => {
    for (const archive of [lenient, strict]) {
      const base = archive.current.url;
      expect((await loan(base, 'borrow_book', 'emmaausten00aust', keysOf(demo))).status).toBe(200);
      expect((await loan(base, 'availability', 'emmaausten00aust', {})).status).toBe(200);
      const history = await loan(base, 'user_borrow_history', null, { ...keysOf(demo), newest: 'True' });
      expect(history.status).toBe(200);
      expect((await loan(base, 'return_loan', 'emmaausten00aust', keysOf(demo))).status).toBe(200);
    }
  });
});

describe('startArchive’s defaults (what the other packages’ tests run against)', () => {
  it('serve the full catalogue and are strict: user_loans is refused', async () => {
    const archive = await startArchive({ port: 0 });
    try {
      expect(archive.state.strictProtocol).toBe(true);
      const found = await raw(`${archive.url}/advancedsearch.php?q=collection:inlibrary&rows=0&output=json`);
      const lendable = defaultFixture({ catalogue: 'full' }).books.filter((b) =>
        b.collections.includes('inlibrary'),
      );
      expect((found.body.response as { numFound: number }).numFound).toBe(lendable.length);
      expect(lendable.length).toBeGreaterThan(100);
      const refused = await loan(archive.url, 'user_loans', null, keysOf(demo));
      expect(refused.status).toBe(400);
    } finally {
      await archive.close();
    }
  });
});
