import { describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, demoPatrons, startArchive } from '../src/app';
import { availability, keysOf, lendingApi, loan, raw, useArchive, xauthn } from './support';

const archive = useArchive();
const demo = demoPatrons()[0]!;

describe('call counter', () => {
  it('counts each call per endpoint and operation, refused ones included', async () => {
    const base = archive.current.url;
    await xauthn(base, 'authenticate', { email: demo.email, password: 'wrong' });
    await xauthn(base, 'info', { email: demo.email });
    await xauthn(base, 'bogus', {});
    await loan(base, 'borrow_book', 'draculabram00stok', keysOf(demo));
    await loan(base, 'borrow_book', 'draculabram00stok', { access: 'x', secret: 'y' });
    await loan(base, 'return_loan', 'draculabram00stok', keysOf(demo));
    await lendingApi(base, { method: 'loan.query', userid: demo.itemname });
    await availability(base, ['draculabram00stok', 'emmaausten00aust']);
    await availability(base, ['draculabram00stok'], null);
    await raw(`${base}/advancedsearch.php?q=collection:inlibrary&output=json`);
    await raw(`${base}/services/s3auth/`, {
      headers: { authorization: `LOW ${demo.access}:${demo.secret}` },
    });
    await (await fetch(`${base}/services/img/draculabram00stok`)).text();
    await raw(`${base}/nowhere`); // not an endpoint: not counted

    const calls = archive.current.calls;
    expect(calls.snapshot()).toEqual({
      advancedsearch: 1,
      availability: 2,
      img: 1,
      lendingApi: 1,
      'loans.borrow_book': 2,
      'loans.return_loan': 1,
      s3auth: 1,
      'xauthn.authenticate': 1,
      'xauthn.bogus': 1,
      'xauthn.info': 1,
    });
    expect(calls.get('loans')).toBe(3);
    expect(calls.get('xauthn')).toBe(3);
    expect(calls.get('availability')).toBe(2);
    expect(calls.total()).toBe(12);

    const viaHttp = await raw(`${base}/_dev/calls`);
    expect(viaHttp.body).toEqual({ calls: calls.snapshot(), total: 12 });
    const reset = await fetch(`${base}/_dev/calls`, { method: 'DELETE' });
    expect(reset.status).toBe(204);
    expect(calls.total()).toBe(0);
    // The dev endpoints themselves are not counted.
    expect((await raw(`${base}/_dev/calls`)).body).toEqual({ calls: {}, total: 0 });
  });

  it('is cleared by state.reset()', async () => {
    await xauthn(archive.current.url, 'info', { email: demo.email });
    archive.current.state.reset();
    expect(archive.current.calls.total()).toBe(0);
  });
});

describe('injected latency', () => {
  // A lower bound only: a timer never fires early, so this cannot flake on a busy machine.
  const elapsed = async (run: () => Promise<unknown>) => {
    const start = performance.now();
    await run();
    return performance.now() - start;
  };

  it('delays every call by latencyMs, set at start or changed on the running stand-in', async () => {
    const slow = await startArchive({ port: 0, latencyMs: 120 });
    try {
      const headers = { authorization: `LOW ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}` };
      for (const url of [
        `${slow.url}/advancedsearch.php?q=collection:inlibrary&output=json`,
        `${slow.url}/services/availability/?identifier=draculabram00stok`,
        `${slow.url}/nowhere`,
      ]) {
        expect(await elapsed(() => fetch(url, { headers }).then((r) => r.text()))).toBeGreaterThanOrEqual(
          115,
        );
      }
      slow.state.latencyMs = 250;
      expect(
        await elapsed(() => loan(slow.url, 'borrow_book', 'draculabram00stok', keysOf(demo))),
      ).toBeGreaterThanOrEqual(245);
      // Not the development endpoints.
      slow.state.latencyMs = 5_000;
      const outbox = await fetch(`${slow.url}/_dev/outbox`, { signal: AbortSignal.timeout(4_000) });
      expect(outbox.status).toBe(200);
      await outbox.text();
    } finally {
      await slow.close();
    }
  });
});
