import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { accountRouter } from './routers/account';
import { authRouter } from './routers/auth';
import { booksRouter } from './routers/books';
import { loansRouter } from './routers/loans';
import { siteRouter } from './routers/site';
import { createCallerFactory, router } from './trpc';

export const appRouter = router({
  auth: authRouter,
  account: accountRouter,
  books: booksRouter,
  loans: loansRouter,
  site: siteRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** `createCaller(createContext(deps, req))`: calls procedures in-process (tests, tools). */
export const createCaller = createCallerFactory(appRouter);
