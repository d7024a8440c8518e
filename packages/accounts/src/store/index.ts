export { openAccountStore, parseDatabaseUrl, type DatabaseTarget } from './open';
export { SqliteAccountStore } from './sqlite';
export { PostgresAccountStore, type PostgresStoreOptions } from './postgres';
export { StoreDatabaseError, isDatabaseOutage } from './database-error';
export { InvalidAccountInputError, LIMITS as ACCOUNT_FIELD_LIMITS } from './records';
