// The cookies' MAC is compared in constant time (issue 13 §8): node:crypto's timingSafeEqual, as packages/crypto
// imports it, is replaced by a spy for this file. Over real HTTP, the spy must see the token's MAC, and its answer
// alone must decide: forced false, a valid session is refused; forced true, a session with a wrong MAC is accepted.
// A comparison made with `===`, Buffer.equals or a loop would never call the spy, and these tests would fail.
import type * as nodeCrypto from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Mock } from 'vitest';
import { Client, dataOf, startStack } from './helpers';
import type { Stack } from './helpers';

type NodeCrypto = typeof nodeCrypto;
type Compare = NodeCrypto['timingSafeEqual'];

// Made before the imports (vi.mock is hoisted): the spy that decides, the real function, and a copy of what each
// call compared. A copy, as packages/crypto decodes every token into one scratch buffer that the next one reuses.
const hoisted = vi.hoisted(() => ({
  spy: undefined as unknown as Mock<Compare>,
  real: undefined as unknown as Compare,
  seen: [] as [Buffer, Buffer][],
}));

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<NodeCrypto>();
  hoisted.real = actual.timingSafeEqual;
  hoisted.spy = vi.fn(actual.timingSafeEqual);
  const timingSafeEqual: Compare = (a, b) => {
    const copy = (view: NodeJS.ArrayBufferView) =>
      Buffer.from(Buffer.from(view.buffer, view.byteOffset, view.byteLength));
    hoisted.seen.push([copy(a), copy(b)]);
    return hoisted.spy(a, b);
  };
  return { ...actual, default: { ...actual, timingSafeEqual }, timingSafeEqual };
});

/** The last 32 bytes of a Fernet token: its HMAC-SHA256. */
function macOf(token: string): Buffer {
  const bytes = Buffer.from(token, 'base64url');
  return bytes.subarray(bytes.length - 32);
}

/** The token with the last byte of its MAC changed (url-safe base64, padded as Fernet writes it). */
function withWrongMac(token: string): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0x01, bytes.length - 1);
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

let stack: Stack;
let client: Client;
let session: string;
beforeEach(async () => {
  stack = await startStack();
  client = new Client(stack.url);
  expect((await client.login()).status).toBe(200);
  session = client.cookies.get('session')!;
  hoisted.seen.length = 0;
});
afterEach(async () => {
  // Back to the real comparison (a return value set by a test outlasts mockClear).
  hoisted.spy.mockReset();
  hoisted.spy.mockImplementation(hoisted.real);
  await stack.close();
});

describe('the MAC comparison of the cookies', () => {
  it("goes through timingSafeEqual with the token's MAC", async () => {
    const me = await client.query('account.me');
    expect(dataOf(me)).toMatchObject({ email: 'patron@example.org' });
    const mac = macOf(session);
    const call = hoisted.seen.find(([, given]) => given.equals(mac));
    expect(call).toBeDefined();
    expect(call![0]).toHaveLength(32);
  });

  it('refuses a valid session when timingSafeEqual answers false', async () => {
    hoisted.spy.mockReturnValue(false);
    const me = await client.query('account.me');
    expect(me.status).toBe(200);
    expect(dataOf(me)).toBeNull();
    expect(stack.logs.join('')).toContain('"reason":"bad_signature"');
  });

  it('accepts a wrong MAC when timingSafeEqual answers true: its answer alone decides', async () => {
    const forged = new Client(stack.url);
    forged.cookies.set('session', withWrongMac(session));
    expect(dataOf(await forged.query('account.me'))).toBeNull(); // the real comparison refuses it
    hoisted.spy.mockReturnValue(true);
    const me = await new Client(stack.url).request('/trpc/account.me', {
      headers: { cookie: `session=${withWrongMac(session)}` },
    });
    expect(dataOf(me)).toMatchObject({ email: 'patron@example.org' });
  });
});
