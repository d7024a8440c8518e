// Type-level facts: the router's inferred inputs, outputs and error data are the contract's.
import type { inferRouterError, TRPC_ERROR_CODE_KEY } from '@trpc/server';
import type { AppErrorCode } from '@lending/accounts';
import { describe, expectTypeOf, it } from 'vitest';
import type { AppRouter, RouterInputs, RouterOutputs } from './root';
import type { BookPage, HistoryEntry, Loan, Me } from './outputs';

describe('AppRouter types', () => {
  it('infers the contract inputs', () => {
    expectTypeOf<RouterInputs['auth']['login']>().toEqualTypeOf<{
      email: string;
      password: string;
      remember?: boolean | undefined;
    }>();
    expectTypeOf<RouterInputs['auth']['loginWithKeys']>().toEqualTypeOf<{
      access: string;
      secret: string;
      remember?: boolean | undefined;
    }>();
    expectTypeOf<RouterInputs['auth']['logout']>().toEqualTypeOf<void>();
    expectTypeOf<RouterInputs['account']['me']>().toEqualTypeOf<void>();
    // tRPC adds `void` to optional inputs so that the argument can be left out.
    expectTypeOf<RouterInputs['books']['list']>().toEqualTypeOf<
      | { query?: string | undefined; page?: number | undefined; pageSize?: number | undefined }
      | undefined
      | void
    >();
    expectTypeOf<RouterInputs['loans']['list']>().toEqualTypeOf<void>();
    expectTypeOf<RouterInputs['loans']['borrow']>().toEqualTypeOf<{
      identifier: string;
      action?: 'borrow' | 'browse' | undefined;
    }>();
    expectTypeOf<RouterInputs['loans']['return']>().toEqualTypeOf<{ identifier: string }>();
    expectTypeOf<RouterInputs['loans']['joinWaitlist']>().toEqualTypeOf<{ identifier: string }>();
    expectTypeOf<RouterInputs['loans']['leaveWaitlist']>().toEqualTypeOf<{ identifier: string }>();
    expectTypeOf<RouterInputs['loans']['history']>().toEqualTypeOf<
      { limit?: number | undefined; offset?: number | undefined } | undefined | void
    >();
  });

  it('infers the contract outputs', () => {
    expectTypeOf<RouterOutputs['auth']['login']>().toEqualTypeOf<Me>();
    expectTypeOf<RouterOutputs['auth']['loginWithKeys']>().toEqualTypeOf<Me>();
    expectTypeOf<RouterOutputs['auth']['logout']>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf<RouterOutputs['account']['me']>().toEqualTypeOf<Me | null>();
    expectTypeOf<RouterOutputs['books']['list']>().toEqualTypeOf<BookPage>();
    expectTypeOf<RouterOutputs['loans']['list']>().toEqualTypeOf<Loan[]>();
    expectTypeOf<RouterOutputs['loans']['borrow']>().toEqualTypeOf<{ ok: true; loan: Loan | null }>();
    expectTypeOf<RouterOutputs['loans']['return']>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf<RouterOutputs['loans']['joinWaitlist']>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf<RouterOutputs['loans']['leaveWaitlist']>().toEqualTypeOf<{ ok: true }>();
    expectTypeOf<RouterOutputs['loans']['history']>().toEqualTypeOf<{
      items: HistoryEntry[];
      hasMore: boolean;
    }>();
    expectTypeOf<RouterOutputs['account']['me']>()
      .exclude<null>()
      .toHaveProperty('keysSource')
      .toEqualTypeOf<'cookie' | 'store' | 'none'>();
  });

  it('types the error data clients read', () => {
    type Data = inferRouterError<AppRouter>['data'];
    expectTypeOf<Data['appCode']>().toEqualTypeOf<AppErrorCode | undefined>();
    expectTypeOf<Data['retryAfter']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Data['fieldErrors']>().toEqualTypeOf<Record<string, string[]> | undefined>();
    expectTypeOf<Data['code']>().toEqualTypeOf<TRPC_ERROR_CODE_KEY>();
  });
});
