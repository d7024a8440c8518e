import { getTRPCErrorShape, TRPCError } from '@trpc/server';
import { AppError } from '@lending/accounts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiDeps, ApiLogger, Context, CookieJar, SessionUser } from './context';
import { GENERIC_MESSAGE } from './errors';
import { createCallerFactory, isLoggedError, protectedProcedure, publicProcedure, router } from './trpc';

const testRouter = router({
  fail: publicProcedure.input(z.object({ kind: z.string() })).mutation(({ input }) => {
    if (input.kind === 'app') throw new AppError('lending_limit', 'loans API answered 409', 'detail');
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

  it('hides an unexpected error behind a generic message, without a stack, and logs it', async () => {
    const { ctx, lines } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const shape = await shapeOf(ctx, 'fail', { kind: 'bug' }, () => caller.fail({ kind: 'bug' }));
    expect(shape.data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(shape.message).toBe(GENERIC_MESSAGE);
    expect(JSON.stringify(shape)).not.toContain('SELECT');
    expect(shape.data).not.toHaveProperty('stack');
    expect(shape.data).not.toHaveProperty('appCode');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ path: 'fail' }) as unknown,
      }),
    ]);
    expect(JSON.stringify(lines[0]?.fields)).toContain('SELECT secret FROM accounts');
  });

  it('marks the errors it logged, so a host does not log them again', async () => {
    const { ctx, lines } = fakeContext();
    const caller = createCallerFactory(testRouter)(ctx);
    const failure = (kind: string) =>
      caller.fail({ kind }).then(
        () => expect.fail('expected the call to fail'),
        (error: unknown) => error,
      );
    const bug = await failure('bug');
    expect(lines).toHaveLength(1);
    expect(isLoggedError(bug)).toBe(true);
    // A domain error is the client's answer, not a fault: nothing logged, nothing marked.
    const refusal = await failure('app');
    expect(lines).toHaveLength(1);
    expect(isLoggedError(refusal)).toBe(false);
    expect(isLoggedError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR' }))).toBe(false);
    expect(isLoggedError(null)).toBe(false);
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
    const session = { username: 'alice', remember: false, account: {} as SessionUser['account'] };
    const { ctx } = fakeContext(session);
    await expect(createCallerFactory(testRouter)(ctx).whoami()).resolves.toBe('alice');
  });
});
