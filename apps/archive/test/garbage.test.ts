// Every endpoint against an attacker's raw HTTP: wrong methods, bodies and headers, random bytes. Never a 500,
// never a stack, never an echo of what was sent.
import { describe, expect, it } from 'vitest';
import { useArchive } from './support';

const archive = useArchive({ catalogue: 'full' });

const PATHS = [
  '/services/xauthn/?op=authenticate',
  '/services/xauthn/?op=issue_otp',
  '/services/xauthn/?op=redeem_otp',
  '/services/xauthn/?op=issue_key',
  '/services/s3auth/',
  '/services/loans/loan/?action=borrow_book&identifier=draculabram00stok',
  '/services/loans/loan/?action=user_borrow_history',
  '/services/openlibrary.php',
  '/services/availability/?identifier=draculabram00stok',
  '/advancedsearch.php?q=collection:inlibrary&output=json',
  '/bookreader/BookReaderAuth.php?id=draculabram00stok',
  '/services/img/draculabram00stok',
  '/_dev/outbox',
  '/_dev/calls',
];

const SECRET_MARK = 'ECHO-ME-NOT-7f3a';
const BODIES: [string, string | undefined][] = [
  ['application/json', `{"access":"${SECRET_MARK}","secret":`],
  ['application/json', '[]'],
  ['application/json', 'null'],
  ['application/json', '{"email":{"$gt":""},"password":[1,2],"access":{},"secret":null}'],
  ['application/json', JSON.stringify({ email: '\u0000\ud800', password: 'x'.repeat(1025) })],
  [
    'application/x-www-form-urlencoded',
    `access[]=${SECRET_MARK}&secret[a]=b&limit=1e9&offset=-1&newest=maybe`,
  ],
  ['application/x-www-form-urlencoded', '%%%&&&==='],
  ['text/plain', SECRET_MARK],
  [
    'multipart/form-data; boundary=x',
    `--x\r\nContent-Disposition: form-data; name="access"\r\n\r\n${SECRET_MARK}\r\n--x--`,
  ],
  ['application/json; charset=utf-16', '{}'],
  ['application/json', undefined],
];

function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function expectClean(response: Response, what: string): Promise<void> {
  const text = await response.text();
  expect(response.status, what).toBeLessThan(500);
  expect(text, what).not.toContain(SECRET_MARK);
  expect(text, what).not.toMatch(/\bat [\w.<>]+ \(|node:internal|Error:/);
}

describe('garbage in, a clear 4xx out', () => {
  it('every endpoint × method × malformed body', async () => {
    for (const path of PATHS) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        for (const [type, body] of BODIES) {
          const withBody = method !== 'GET' && body !== undefined;
          const response = await fetch(`${archive.current.url}${path}`, {
            method,
            headers: withBody ? { 'content-type': type } : {},
            body: withBody ? body : undefined,
          });
          await expectClean(response, `${method} ${path} ${type} ${String(body).slice(0, 40)}`);
        }
      }
    }
  }, 120_000);

  it('odd headers and query strings', async () => {
    const base = archive.current.url;
    const cases: [string, Record<string, string>][] = [
      ['/services/s3auth/', { authorization: `LOW ${'a'.repeat(5000)}:${SECRET_MARK}` }],
      ['/services/availability/?identifier=a', { authorization: `LOW :${SECRET_MARK}` }],
      ['/services/xauthn/?op=issue_otp&op=redeem_otp', { 'x-originating-ip': '::ffff:999.0.0.1' }],
      ['/services/loans/loan/?action=borrow_book&identifier=%E0%A4%A', {}],
      ['/services/img/%E0%A4%A', {}],
      ['/services/img/..%2f..%2fetc%2fpasswd', {}],
      ['/advancedsearch.php?q=%00&output=json', {}],
      ['/advancedsearch.php?q[a]=b&output=json', {}],
      ['/bookreader/BookReaderAuth.php?uuid[]=1&token=2&id=3&bookPath=4&iaUserId=5&iaAuthToken=6', {}],
      [`/_dev/outbox?email=${'x'.repeat(5000)}`, {}],
    ];
    for (const [path, headers] of cases) {
      await expectClean(await fetch(`${base}${path}`, { headers }), path);
    }
  });

  it('random bytes to every endpoint (seeded)', async () => {
    const seed = Number(process.env.GARBAGE_SEED ?? Date.now() % 1_000_000);
    console.log(`garbage seed ${seed} (GARBAGE_SEED=${seed} repeats it)`);
    const next = random(seed);
    for (let i = 0; i < 200; i += 1) {
      const path = PATHS[Math.floor(next() * PATHS.length)]!;
      const bytes = new Uint8Array(Math.floor(next() * 300));
      for (let j = 0; j < bytes.length; j += 1) bytes[j] = Math.floor(next() * 256);
      const type = ['application/json', 'application/x-www-form-urlencoded', 'application/octet-stream'][
        i % 3
      ]!;
      const response = await fetch(`${archive.current.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: bytes,
      });
      await expectClean(response, `seed ${seed} #${i} ${path}`);
    }
  }, 60_000);
});
