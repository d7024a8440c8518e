// Realistic synthetic accounts for tests and the benchmark: deterministic for a given seed, generated in chunks
// so a million of them never sit in memory at once.
import type { AccountRecord, AccountStatus } from '@lending/accounts';

const FIRST =
  'ada alan amara ana aroha ben carmen chen dmitri elena emeka fatima grace hana ines ivan jamal jin kofi lea liam lucia mateo mei nadia noor olga omar priya quinn rafael rosa sami sofia tariq uma victor wen yara zoe'.split(
    ' ',
  );
const LAST =
  'abara bianchi chowdhury costa dubois eriksen fischer garcia haddad ito jansen kim kowalski lopez mensah moreau nakamura nguyen okafor olsen park petrov quispe rossi santos schmidt silva tanaka urquhart vargas wang weber xu yilmaz zhang zulu'.split(
    ' ',
  );
const DOMAINS = 'example.org example.com example.net mail.example library.example'.split(' ');
const LANGS = 'en fr es de pt hi zh ar'.split(' ');
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FIRST_DAY = Date.UTC(2008, 0, 1);
const LAST_DAY = Date.UTC(2026, 9, 1);

/** mulberry32: small, fast and good enough for test data (not for secrets: these keys are fake). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  accounts: number;
  /** Percentage (0..100) of accounts that hold legacy plaintext s3Keys. */
  withKeysPercent: number;
  seed: number;
  /** Keeps usernames, emails and itemnames unique across several seedings of one store. */
  tag: string;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function fakeKey(random: () => number): string {
  let key = '';
  for (let i = 0; i < 16; i++) key += KEY_ALPHABET[Math.floor(random() * KEY_ALPHABET.length)];
  return key;
}

/** Exactly round(accounts * percent / 100) accounts hold keys, spread evenly through the sequence. */
function holdsKeys(index: number, options: SeedOptions): boolean {
  const share = options.withKeysPercent / 100;
  return Math.floor((index + 1) * share) > Math.floor(index * share);
}

export function countWithKeys(options: Pick<SeedOptions, 'accounts' | 'withKeysPercent'>): number {
  // The same arithmetic as holdsKeys, whose per-index steps sum (telescope) to exactly this.
  return Math.floor(options.accounts * (options.withKeysPercent / 100));
}

export function generateAccount(index: number, random: () => number, options: SeedOptions): AccountRecord {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const id = `${options.tag}.${index.toString(36)}`;
  const username = `${first}_${last}_${id}`;
  const createdMs = FIRST_DAY + Math.floor(random() * (LAST_DAY - FIRST_DAY));
  const statusRoll = random();
  const status: AccountStatus = statusRoll < 0.9 ? 'active' : statusRoll < 0.98 ? 'pending' : 'blocked';
  const loggedIn = status !== 'pending' && random() < 0.85;
  const record: AccountRecord = {
    username,
    email: `${first}.${last}.${id}@${pick(random, DOMAINS)}`,
    displayName: `${first[0]?.toUpperCase() ?? ''}${first.slice(1)} ${last[0]?.toUpperCase() ?? ''}${last.slice(1)}`,
    status,
    itemname: status === 'pending' || random() < 0.08 ? null : `@${first}${last}${id}`,
    createdOn: new Date(createdMs).toISOString(),
    lastLogin: loggedIn
      ? new Date(createdMs + Math.floor(random() * (LAST_DAY - createdMs))).toISOString()
      : null,
  };
  // Fields this code does not know, as older versions of the site left them: they must survive the purge.
  if (random() < 0.3) record.preferences = { lang: pick(random, LANGS), notifications: random() < 0.5 };
  if (random() < 0.05) record.tags = random() < 0.5 ? ['librarian'] : ['beta-tester', 'reader'];
  if (random() < 0.02) record.bot = true;
  if (holdsKeys(index, options)) record.s3Keys = { access: fakeKey(random), secret: fakeKey(random) };
  return record;
}

/** Yields the accounts in chunks of `chunkSize`. */
export function* generateAccounts(options: SeedOptions, chunkSize: number): Generator<AccountRecord[]> {
  const random = createRandom(options.seed);
  for (let start = 0; start < options.accounts; start += chunkSize) {
    const chunk: AccountRecord[] = [];
    const end = Math.min(options.accounts, start + chunkSize);
    for (let index = start; index < end; index++) chunk.push(generateAccount(index, random, options));
    yield chunk;
  }
}
