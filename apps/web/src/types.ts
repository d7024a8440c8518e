// The SPA's names for what the procedures return, inferred from the router (import type only).
import type { RouterOutputs } from '@lending/api';

export type Me = NonNullable<RouterOutputs['account']['me']>;
export type BookPage = RouterOutputs['books']['list'];
export type Book = BookPage['books'][number];
export type Loan = RouterOutputs['loans']['list'][number];
export type HistoryEntry = RouterOutputs['loans']['history']['items'][number];
