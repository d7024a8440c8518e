import { getTRPCErrorShape, TRPCError } from '@trpc/server';
import { AppError } from '@lending/accounts';
import type { ArchiveClient } from '@lending/accounts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Context } from './context';
import { INTERNAL_MESSAGE } from './errors';
import type { ApiDeps, ApiLogger, CookieJar } from './host';
import type { SessionUser } from './session';
import { createCallerFactory, protectedProcedure, publicProcedure, router } from './trpc';

const testRouter = router({
  fail: publicProcedure.input(z.object({ kind: z.string() })).mutation(({ input }) => {
    if (input.kind === 'app') throw new AppError('lending_limit', 'loans API answered 409');
    if (input.kind === 'limited') throw new AppError('rate_limited', 'throttled', { retryAfterSeconds: 7 });
    throw new Error('SELECT secret FROM accounts failed at db.ts:42');
  }),
  validate: publicProcedure
    .input(z.object({ email: z.string().max(5), limit: z.number().min(1) }))
    .query(({ input }) => input),
  whoami: protectedProcedure.query(({ ctx }) => ctx.session.username),
});

function fakeContext(session: SessionUser | null = null) {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log: ApiLogger = {
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
  };
  const cookies: CookieJar = { get: () => undefined, set: () => undefined, clear: () => undefined };
  const ctx: Context = {
    // The procedures under test here never touch the dependencies.
    deps: {} as ApiDeps,
    archive: () => ({}) as ArchiveClient,
    req: { cookies, ip: '127.0.0.1', log, setHeader: () => undefined },
    nowMs: Date.now(),
    getSession: () => Promise.resolve(session),
  };
  return { ctx, lines };
}

async function shapeOf(ctx: Context, path: string, input: unknown, call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return getTRPCErrorShape({ config: testRouter._def._config, error, type: 'query', path, input, ctx });
  }
  throw new Error('expected the call to fail');
}

describe('error formatting', () => {
  it('adds the appCode of a domain error and its HTTP status', async () => {
    const { ctx } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const shape = await shapeOf(ctx, 'fail', { kind: 'app' }, () => caller.fail({ kind: 'app' }));
    expect(shape.data.code).toBe('CONFLICT');
    expect(shape.data.httpStatus).toBe(409);
    expect(shape.data.appCode).toBe('lending_limit');
    expect(shape.data.fieldErrors).toBeUndefined();
    expect(shape.message).not.toContain('409');
  });

  it('sends the time to wait of a domain error that has one', async () => {
    const { ctx } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const shape = await shapeOf(ctx, 'fail', { kind: 'limited' }, () => caller.fail({ kind: 'limited' }));
    expect(shape.data).toMatchObject({ httpStatus: 429, appCode: 'rate_limited', retryAfter: 7 });
    expect(shape.message).not.toContain('throttled');
  });

  it('hides an unexpected error behind a generic message, without a stack, and logs nothing itself', async () => {
    const { ctx, lines } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const shape = await shapeOf(ctx, 'fail', { kind: 'bug' }, () => caller.fail({ kind: 'bug' }));
    expect(shape.data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(shape.message).toBe(INTERNAL_MESSAGE);
    expect(JSON.stringify(shape)).not.toContain('SELECT');
    expect(shape.data).not.toHaveProperty('stack');
    expect(shape.data).not.toHaveProperty('appCode');
    // The host logs each failed call once, from its onError (failureLog).
    expect(lines).toEqual([]);
  });

  it('returns zod field errors for invalid input, as 400', async () => {
    const { ctx } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const input = { email: 'too-long@example.org', limit: 0 };
    const shape = await shapeOf(ctx, 'validate', input, () => caller.validate(input));
    expect(shape.data.code).toBe('BAD_REQUEST');
    expect(shape.data.httpStatus).toBe(400);
    expect(shape.data.appCode).toBeUndefined();
    expect(Object.keys(shape.data.fieldErrors ?? {}).sort()).toEqual(['email', 'limit']);
    expect(shape.data.fieldErrors?.email?.[0]).toMatch(/5/);
    expect(shape.message).toMatch(/^Invalid input\. /);
    // Plain JSON: the shape survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(shape))).toEqual(shape);
  });
});

describe('protectedProcedure', () => {
  it('refuses a request without a session: UNAUTHORIZED without appCode', async () => {
    const { ctx } = fakeContext(null);
    const caller = createCallerFactory(testRouter)(ctx);
    const shape = await shapeOf(ctx, 'whoami', undefined, () => caller.whoami());
    expect(shape.data.code).toBe('UNAUTHORIZED');
    expect(shape.data.appCode).toBeUndefined();
  });

  it('hands the resolver the session', async () => {
    const session: SessionUser = {
      username: 'alice',
      remember: false,
      id: 'session-id',
      loginAt: 0,
      keyFingerprint: null,
      printDisabled: false,
      issuedAt: 0,
      account: {} as SessionUser['account'],
    };
    const { ctx } = fakeContext(session);
    await expect(createCallerFactory(testRouter)(ctx).whoami()).resolves.toBe('alice');
  });
});
