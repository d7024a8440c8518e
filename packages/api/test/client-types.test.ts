// Type-level facts: the client's inputs and outputs follow the router (checked by `tsc`, run by vitest).
import { describe, expectTypeOf, it } from 'vitest';
import { createLendingClient } from '../src/client';
import type { LendingClient, LendingCookies } from '../src/client';
import type { RouterInputs, RouterOutputs } from '../src/index';
import type { Book, BookPage, HistoryEntry, Loan, Me } from '../src/outputs';

// Building a client makes no request, so this is safe to run.
const client = createLendingClient({ url: 'http://127.0.0.1:9/trpc' });

describe('createLendingClient types', () => {
  it('returns the typed tRPC client with a cookie jar', () => {
    expectTypeOf(client).toEqualTypeOf<LendingClient>();
    expectTypeOf(client.cookies).toEqualTypeOf<LendingCookies>();
    expectTypeOf<ReturnType<LendingCookies['get']>>().toEqualTypeOf<string | undefined>();
  });

  it('types auth', () => {
    expectTypeOf(client.auth.login.mutate).parameter(0).toEqualTypeOf<RouterInputs['auth']['login']>();
    expectTypeOf(client.auth.login.mutate).parameter(0).toExtend<{ email: string; password: string }>();
    expectTypeOf(client.auth.login.mutate).returns.resolves.toEqualTypeOf<Me>();
    expectTypeOf(client.auth.loginWithKeys.mutate)
      .parameter(0)
      .toEqualTypeOf<{ access: string; secret: string; remember?: boolean | undefined }>();
    expectTypeOf(client.auth.loginWithKeys.mutate).returns.resolves.toEqualTypeOf<Me>();
    expectTypeOf(client.auth.logout.mutate).returns.resolves.toEqualTypeOf<{ ok: true }>();
    // @ts-expect-error the login needs a password
    void (() => client.auth.login.mutate({ email: 'a@b.c' }));
  });

  it('types account and books', () => {
    expectTypeOf(client.account.me.query).returns.resolves.toEqualTypeOf<Me | null>();
    expectTypeOf(client.books.list.query).returns.resolves.toEqualTypeOf<BookPage>();
    expectTypeOf<
      RouterOutputs['books']['list']['books'][number]['availability']['waitlistLength']
    >().toBeNumber();
    expectTypeOf<Book['yourLoan']>().toEqualTypeOf<'borrow' | 'browse' | null>();
  });

  it('types loans', () => {
    expectTypeOf(client.loans.list.query).returns.resolves.toEqualTypeOf<Loan[]>();
    expectTypeOf(client.loans.borrow.mutate)
      .parameter(0)
      .toEqualTypeOf<{ identifier: string; action?: 'borrow' | 'browse' | undefined }>();
    expectTypeOf(client.loans.borrow.mutate).returns.resolves.toEqualTypeOf<{
      ok: true;
      loan: Loan | null;
    }>();
    expectTypeOf(client.loans.return.mutate).parameter(0).toEqualTypeOf<{ identifier: string }>();
    expectTypeOf(client.loans.joinWaitlist.mutate).returns.resolves.toEqualTypeOf<{ ok: true }>();
    expectTypeOf(client.loans.leaveWaitlist.mutate).returns.resolves.toEqualTypeOf<{ ok: true }>();
    expectTypeOf(client.loans.history.query).returns.resolves.toEqualTypeOf<{
      items: HistoryEntry[];
      hasMore: boolean;
    }>();
    // @ts-expect-error borrow has no 'steal' action
    void (() => client.loans.borrow.mutate({ identifier: 'x', action: 'steal' }));
  });
});
