export { openAccountStore, type PostgresTuning } from './open';
export {
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
  redactDatabaseUrl,
  type DatabaseTarget,
} from './database-url';
export { SqliteAccountStore } from './sqlite';
export {
  PostgresAccountStore,
  type DatabaseHealth,
  type PoolStats,
  type PostgresStoreOptions,
} from './postgres';
export { StoreDatabaseError, isDatabaseOutage } from './database-error';
export { InvalidAccountInputError, LIMITS as ACCOUNT_FIELD_LIMITS } from './records';
