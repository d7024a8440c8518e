export * from './types';
export * from './errors';
export * from './store/index';
export { saveS3Keys, seedLegacyAccounts, type LegacyAccountSeed } from './legacy';
