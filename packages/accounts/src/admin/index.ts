// @lending/accounts/admin: the operators' side of the account store (seeding, counting, compacting after a
// purge), kept apart from the AccountStore that servers use.
export { openAccountsAdmin } from './open';
export type {
  AccountsAdmin,
  CompactionChoice,
  CompactionMethod,
  CompactionOptions,
  CompactionReport,
} from './types';
