// auditAccounts over real HTTP against the stand-in, with both store adapters.
import { demoPatrons, legacyAccountSeeds, type ArchiveFault } from '@lending/archive';
import { beforeEach, expect, it } from 'vitest';
import { ArchiveClient } from '../src/archive-client';
import { auditAccounts } from '../src/audit';
import { AccountExistsError, AppError, RevisionConflictError } from '../src/errors';
import type { AppErrorCode } from '../src/errors';
import { seedLegacyAccounts } from '../src/legacy';
import type { Account, AccountStore } from '../src/types';
import { describeWithStores, useArchive } from './audit-helpers';

const archive = useArchive();
beforeEach(() => {
  archive.current.state.reset();
});

const patrons = demoPatrons();
const patron = (email: string) => patrons.find((p) => p.email === email)!;
const demo = patron('patron@example.org');
const reader = patron('reader@example.org');
const scholar = patron('scholar@example.org');
const login = (p: { email: string; password: string }) => ({ email: p.email, password: p.password });
const keysOf = (p: { access: string; secret: string }) => ({ access: p.access, secret: p.secret });
const fixedNow = new Date('2026-11-29T12:00:00.000Z');

/** The code and detail of the AppError a login was refused with. */
async function refusal(login: Promise<unknown>): Promise<{ code: AppErrorCode; detail: string }> {
  const error = await login.then(
    () => expect.fail('expected the login to be refused'),
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw error;
  return { code: error.code, detail: error.detail };
}

async function allAccounts(store: AccountStore): Promise<Account[]> {
  return store.scan({ after: null, limit: 1000 });
}

/** A store that runs `hook` before delegating the named method. */
function intercept<K extends keyof AccountStore>(
  store: AccountStore,
  method: K,
  hook: (original: AccountStore[K], ...args: unknown[]) => unknown,
): AccountStore {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return property === method ? (...args: unknown[]) => hook(bound as AccountStore[K], ...args) : bound;
    },
  });
}

describeWithStores('auditAccounts', (ctx) => {
  const deps = (overrides: { archive?: ArchiveClient; store?: AccountStore } = {}) => ({
    store: overrides.store ?? ctx.store,
    archive: overrides.archive ?? archive.client(),
    now: () => fixedNow,
  });

  it('first login creates and links an account, and returns keys from issue_key', async () => {
    const result = await auditAccounts(deps(), login(demo));
    expect(result).toEqual({
      created: true,
      iaScreenname: 'Demo Patron',
      printDisabled: false,
      s3Keys: keysOf(demo),
      account: expect.objectContaining({
        username: 'demo_patron',
        email: 'patron@example.org',
        displayName: 'Demo Patron',
        itemname: '@demo_patron',
        status: 'active',
        lastLogin: fixedNow.toISOString(),
      }) as unknown,
    });
    const stored = await ctx.store.getByUsername('demo_patron');
    expect(stored).not.toHaveProperty('s3Keys');
    expect(JSON.stringify(await allAccounts(ctx.store))).not.toContain(demo.secret);
  });

  it('a second login finds the account by its link', async () => {
    const first = await auditAccounts(deps(), login(demo));
    const later = new Date(fixedNow.getTime() + 60_000);
    const second = await auditAccounts(
      { ...deps(), now: () => later },
      { ...login(demo), email: ' PATRON@Example.ORG ' },
    );
    expect(second.created).toBe(false);
    expect(second.account.username).toBe(first.account.username);
    expect(second.account.revision).toBe(first.account.revision + 1);
    expect(second.account.lastLogin).toBe(later.toISOString());
    expect(await allAccounts(ctx.store)).toHaveLength(1);
  });

  it('finds an account by email when unlinked, and links it', async () => {
    await ctx.store.create({
      username: 'reader1',
      email: 'Reader@Example.org',
      displayName: 'R',
      status: 'active',
      itemname: null,
      createdOn: fixedNow.toISOString(),
    });
    const result = await auditAccounts(deps(), login(reader));
    expect(result).toMatchObject({
      created: false,
      account: { username: 'reader1', itemname: '@avid_reader' },
    });
  });

  it('relinks an account found by email whose itemname differs (itemname mismatch)', async () => {
    await ctx.store.create({
      username: 'reader1',
      email: 'reader@example.org',
      displayName: 'R',
      status: 'active',
      itemname: '@someone_else',
      createdOn: fixedNow.toISOString(),
    });
    const result = await auditAccounts(deps(), login(reader));
    expect(result).toMatchObject({
      created: false,
      account: { username: 'reader1', itemname: '@avid_reader' },
    });
    expect(await ctx.store.getByItemname('@someone_else')).toBeNull();
  });

  it('activates a pending account', async () => {
    await ctx.store.create({
      username: 'scholar',
      email: 'scholar@example.org',
      displayName: 'S',
      status: 'pending',
      itemname: '@careful_scholar',
      createdOn: fixedNow.toISOString(),
    });
    const result = await auditAccounts(deps(), login(scholar));
    expect(result).toMatchObject({ account: { username: 'scholar', status: 'active' } });
  });

  it('refuses a blocked account and writes nothing', async () => {
    const blocked = await ctx.store.create({
      username: 'scholar',
      email: 'scholar@example.org',
      displayName: 'S',
      status: 'blocked',
      itemname: null,
      createdOn: fixedNow.toISOString(),
    });
    expect(await refusal(auditAccounts(deps(), login(scholar)))).toEqual({
      code: 'account_blocked',
      detail: 'account_blocked',
    });
    expect(await ctx.store.getByUsername('scholar')).toEqual(blocked);
  });

  it('takes the keys from legacy authenticate values', async () => {
    const legacy = patron('legacy-xauthn@example.org');
    const result = await auditAccounts(deps(), login(legacy));
    expect(result).toMatchObject({
      created: true,
      s3Keys: keysOf(legacy),
      account: { itemname: '@legacy_xauthn' },
    });
  });

  it('logs in with S3 keys (s3auth) and returns those keys', async () => {
    const result = await auditAccounts(deps(), keysOf(reader));
    expect(result).toMatchObject({
      created: true,
      s3Keys: keysOf(reader),
      account: { email: 'reader@example.org', itemname: '@avid_reader' },
    });
  });

  it('finds a legacy (pre-change) record by link and leaves its stored keys to the purge', async () => {
    await seedLegacyAccounts(ctx.store, legacyAccountSeeds());
    const seed = legacyAccountSeeds()[0]!;
    const result = await auditAccounts(deps(), login(patron(seed.email)));
    expect(result).toMatchObject({
      created: false,
      s3Keys: seed.s3Keys,
      account: { username: seed.username },
    });
    expect((await ctx.store.getByUsername(seed.username))?.s3Keys).toEqual(seed.s3Keys);
  });

  it('retries a lost update by re-reading the record', async () => {
    await auditAccounts(deps(), login(demo));
    let raced = false;
    const racing = intercept(ctx.store, 'update', async (update, ...args) => {
      const [username, revision, changes] = args as Parameters<AccountStore['update']>;
      if (!raced) {
        raced = true;
        await update(username, revision, { displayName: 'Changed meanwhile' });
      }
      return update(username, revision, changes);
    });
    const result = await auditAccounts(deps({ store: racing }), login(demo));
    expect(result).toMatchObject({ account: { displayName: 'Changed meanwhile', revision: 3 } });
  });

  it('gives up on a record that keeps changing (the conflict propagates)', async () => {
    await auditAccounts(deps(), login(demo));
    const busy = intercept(ctx.store, 'update', (_update, ...args) => {
      throw new RevisionConflictError(args[0] as string);
    });
    await expect(auditAccounts(deps({ store: busy }), login(demo))).rejects.toBeInstanceOf(
      RevisionConflictError,
    );
  });

  it('retries a taken username with a random suffix', async () => {
    await ctx.store.create({
      username: 'demo_patron',
      email: 'someone@example.org',
      displayName: 'Someone',
      status: 'active',
      itemname: '@someone',
      createdOn: fixedNow.toISOString(),
    });
    const result = await auditAccounts(deps(), login(demo));
    expect(result).toMatchObject({
      created: true,
      account: { username: expect.stringMatching(/^demo_patron_[0-9a-f]{6}$/) as unknown },
    });
  });

  it('max_retries_exceeded after 5 taken usernames', async () => {
    let attempts = 0;
    const full = intercept(ctx.store, 'create', () => {
      attempts += 1;
      throw new AccountExistsError('username');
    });
    expect(await refusal(auditAccounts(deps({ store: full }), login(demo)))).toEqual({
      code: 'max_retries_exceeded',
      detail: 'username_retries_exhausted',
    });
    expect(attempts).toBe(5);
  });

  it.each<[string, AppErrorCode, string, unknown]>([
    [
      'unknown account',
      'invalid_credentials',
      'account_not_found',
      { email: 'nobody@example.org', password: 'x' },
    ],
    [
      'wrong password',
      'invalid_credentials',
      'account_bad_password',
      { email: demo.email, password: 'wrong' },
    ],
    ['locked account', 'account_locked', 'account_locked', login(patron('locked@example.org'))],
    [
      'unverified account',
      'ia_account_not_verified',
      'account_not_verified',
      login(patron('unverified@example.org')),
    ],
    [
      'wrong S3 keys',
      'invalid_s3keys',
      's3auth_refused',
      { access: demo.access, secret: 'WRONGSECRET00000' },
    ],
    ['locked patron S3 keys', 'account_locked', 'info_says_locked', keysOf(patron('locked@example.org'))],
    ['malformed email', 'invalid_email', 'malformed_email', { email: 'not-an-email', password: 'x' }],
  ])('%s -> %s (%s), nothing written', async (_name, code, detail, credentials) => {
    expect(await refusal(auditAccounts(deps(), credentials))).toEqual({ code, detail });
    expect(await allAccounts(ctx.store)).toEqual([]);
  });

  it.each<[string, ArchiveFault]>([
    ['5xx', { kind: 'status', status: 503 }],
    ['non-JSON', { kind: 'non_json' }],
    ['bad shape', { kind: 'bad_shape' }],
    ['connection reset', { kind: 'reset' }],
    ['no answer (timeout)', { kind: 'hang' }],
    ['outage at issue_key only', { kind: 'status', status: 502, path: '/services/xauthn' }],
  ])('archive outage (%s) -> archive_unavailable, nothing written', async (_name, fault) => {
    archive.current.state.fault = fault;
    const refused = await refusal(auditAccounts(deps({ archive: archive.client(300) }), login(demo)));
    archive.current.state.fault = null;
    expect(refused.code).toBe('archive_unavailable');
    expect(refused.detail).not.toContain(demo.password);
    expect(await allAccounts(ctx.store)).toEqual([]);
  });

  it('archive not listening -> archive_unavailable', async () => {
    const closed = new ArchiveClient({
      baseUrl: 'http://127.0.0.1:9',
      serviceAccess: 'a',
      serviceSecret: 'b',
      timeoutMs: 1000,
    });
    expect(await refusal(auditAccounts(deps({ archive: closed }), login(demo)))).toMatchObject({
      code: 'archive_unavailable',
      detail: expect.stringContaining('connection failed') as unknown,
    });
  });

  it('our service keys refused -> archive_misconfigured', async () => {
    const misconfigured = new ArchiveClient({
      baseUrl: archive.current.url,
      serviceAccess: 'wrong',
      serviceSecret: 'wrong',
    });
    expect((await refusal(auditAccounts(deps({ archive: misconfigured }), login(demo)))).code).toBe(
      'archive_misconfigured',
    );
    expect(await allAccounts(ctx.store)).toEqual([]);
  });

  it.each<[string, AppErrorCode, unknown]>([
    ['null', 'invalid_credentials', null],
    ['undefined', 'invalid_credentials', undefined],
    ['a string', 'invalid_credentials', 'patron@example.org:lending-demo-2026'],
    ['a number', 'invalid_credentials', 42],
    ['an array', 'invalid_credentials', [demo.email, demo.password]],
    ['an empty object', 'invalid_email', {}],
    ['email a number', 'invalid_email', { email: 1, password: 'x' }],
    ['email an object', 'invalid_email', { email: { $gt: '' }, password: 'x' }],
    [
      'email overlong (255)',
      'invalid_email',
      { email: `${'a'.repeat(64)}@${'b'.repeat(178)}.example.org`, password: 'x' },
    ],
    ['email huge', 'invalid_email', { email: `${'a'.repeat(100_000)}@example.org`, password: 'x' }],
    ['email without domain', 'invalid_email', { email: 'patron@', password: 'x' }],
    ['email with NUL', 'invalid_email', { email: 'patron\0@example.org', password: 'x' }],
    ['email with newline', 'invalid_email', { email: 'patron@example.org\nbcc: x@y.z', password: 'x' }],
    ['password empty', 'invalid_credentials', { email: demo.email, password: '' }],
    ['password missing', 'invalid_credentials', { email: demo.email }],
    ['password a number', 'invalid_credentials', { email: demo.email, password: 12345 }],
    ['password too long', 'invalid_credentials', { email: demo.email, password: 'x'.repeat(1025) }],
    ['password with NUL', 'invalid_credentials', { email: demo.email, password: 'a\0b' }],
    ['keys not strings', 'invalid_s3keys', { access: 1, secret: 2 }],
    ['keys empty', 'invalid_s3keys', { access: '', secret: '' }],
    ['access with a colon', 'invalid_s3keys', { access: 'a:b', secret: 'c' }],
    ['secret with a newline', 'invalid_s3keys', { access: 'a', secret: 'b\nc' }],
  ])('bad input (%s) -> %s, nothing written', async (_name, code, credentials) => {
    expect((await refusal(auditAccounts(deps(), credentials))).code).toBe(code);
    expect(await allAccounts(ctx.store)).toEqual([]);
  });

  it('a borrow at the stand-in with the keys a login produced succeeds', async () => {
    const client = archive.client();
    const result = await auditAccounts(deps({ archive: client }), login(demo));
    if (!result.s3Keys) throw new Error('login gave no keys');
    await client.loan(result.s3Keys, 'mobydickorwhale00melv', 'borrow_book');
    const loans = await client.loansOf(result.account.itemname ?? '');
    expect(loans.map((l) => [l.identifier, l.type])).toEqual([['mobydickorwhale00melv', 'borrow']]);
  });
});
