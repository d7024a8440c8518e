// The CSRF guard's own refusals (issue 13 §8), not tRPC's: every non-JSON body on every mutation, and Origins
// that merely look like the server's own. Each refusal is recognised by the guard's message and its log line, and
// changes nothing (no cookie set or cleared, the session kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DEMO, dataOf, errorOf, startStack } from './helpers';
import type { Reply, Stack } from './helpers';

const CONTENT_TYPE_MESSAGE = 'Send mutations as POST with content-type: application/json';
const ORIGIN_MESSAGE = 'Cross-origin requests are not allowed';

let stack: Stack;
let patron: Client;
beforeAll(async () => {
  stack = await startStack();
  patron = new Client(stack.url);
  expect((await patron.login()).status).toBe(200);
});
afterAll(async () => {
  await stack.close();
});

function guardLines(guard: string): Record<string, unknown>[] {
  return stack.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.guard === guard);
}

async function stillLoggedIn(): Promise<void> {
  const me = await patron.query('account.me');
  expect(dataOf<{ email: string } | null>(me)).toMatchObject({ email: DEMO.email });
}

function expectGuardRefusal(reply: Reply, status: number, message: string): void {
  expect(reply.status).toBe(status);
  expect(errorOf(reply).message).toBe(message);
  expect(reply.setCookies).toEqual([]);
}

const MUTATIONS: [string, unknown][] = [
  ['auth.logout', undefined],
  ['auth.login', { email: DEMO.email, password: DEMO.password }],
  ['loans.borrow', { identifier: 'greatexpectation00dick' }],
  ['loans.return', { identifier: 'greatexpectation00dick' }],
];

/** Content types a cross-site page could send without a preflight, and others that are not JSON. */
const NOT_JSON = [
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----lending',
  'text/plain',
  'text/plain; charset=UTF-8',
  'text/html',
  'text/json',
  'application/xml',
  'application/x-json',
  'application/json-patch+json',
  'application/jsonp',
  null, // no Content-Type at all
];

describe('CSRF guard: content type', () => {
  for (const [procedure, input] of MUTATIONS) {
    it(`refuses every non-JSON body on ${procedure} itself`, async () => {
      const before = guardLines('content_type').length;
      for (const type of NOT_JSON) {
        const body = JSON.stringify(input ?? {});
        const headers: Record<string, string> = type === null ? {} : { 'content-type': type };
        const reply = await patron.request(`/trpc/${procedure}`, {
          method: 'POST',
          headers,
          body: type === null ? new Blob([body]) : body, // a Blob sends no Content-Type
        });
        expectGuardRefusal(reply, 415, CONTENT_TYPE_MESSAGE);
        expect(errorOf(reply).data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      }
      const lines = guardLines('content_type').slice(before);
      expect(lines).toHaveLength(NOT_JSON.length);
      for (const line of lines) {
        expect(line).toMatchObject({
          level: 40,
          method: 'POST',
          msg: 'refused by the CSRF guard: not a JSON body',
        });
      }
      expect(lines.map((l) => l.contentType)).toContain('application/octet-stream');
      await stillLoggedIn();
    });
  }

  it('refuses non-JSON bodies with other methods too', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const reply = await patron.request('/trpc/auth.logout', {
        method,
        headers: { 'content-type': 'application/octet-stream' },
        body: '{}',
      });
      expectGuardRefusal(reply, 415, CONTENT_TYPE_MESSAGE);
    }
    await stillLoggedIn();
  });

  it('lets a JSON body through (with parameters, in any case)', async () => {
    const reply = await patron.request('/trpc/loans.borrow', {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
      body: JSON.stringify({ identifier: 'greatexpectation00dick' }),
    });
    expect(reply.status).toBe(200);
    expect((await patron.mutate('loans.return', { identifier: 'greatexpectation00dick' })).status).toBe(200);
  });
});

describe('CSRF guard: Origin look-alikes', () => {
  function lookAlikes(): string[] {
    const own = new URL(stack.url);
    const port = Number(own.port);
    return [
      `${stack.url}.evil.example`,
      `${stack.url}0`,
      `http://${own.hostname}:${port + 1}`,
      `https://${own.hostname}:${port}`,
      `http://${own.hostname}`,
      `http://localhost:${port}`,
      `http://evil.example:${port}`,
      `${stack.url}@evil.example`,
      `${stack.url}/`,
      stack.url.toUpperCase(),
      'null',
    ];
  }

  it('refuses each on a mutation, before the body is looked at', async () => {
    const before = guardLines('origin').length;
    const origins = lookAlikes();
    for (const origin of origins) {
      const reply = await patron.mutate('auth.logout', undefined, { origin });
      expectGuardRefusal(reply, 403, ORIGIN_MESSAGE);
      expect(errorOf(reply).data.code).toBe('FORBIDDEN');
    }
    const lines = guardLines('origin').slice(before);
    expect(lines.map((l) => l.origin)).toEqual(origins);
    for (const line of lines) expect(line.msg).toBe('refused by the CSRF guard: foreign Origin');
    await stillLoggedIn();
  });

  it('refuses each on a query as well', async () => {
    for (const origin of lookAlikes()) {
      expectGuardRefusal(await patron.query('account.me', undefined, { origin }), 403, ORIGIN_MESSAGE);
    }
  });

  it('accepts the exact own origin', async () => {
    const reply = await patron.query('account.me', undefined, { origin: stack.url });
    expect(reply.status).toBe(200);
  });
});
