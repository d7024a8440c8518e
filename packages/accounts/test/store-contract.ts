// The one contract every AccountStore adapter passes. store.test.ts runs it for SQLite and PostgreSQL.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccountExistsError, AccountNotFoundError, RevisionConflictError } from '../src/errors';
import { saveS3Keys, seedLegacyAccounts } from '../src/legacy';
import { InvalidAccountInputError, openAccountStore } from '../src/store/index';
import type { Account, AccountStore, NewAccount, PurgeBatchResult } from '../src/types';

export interface StoreTarget {
  /** URL of a fresh, empty database (a temp file, a new schema); also handed to child processes. */
  url: string;
  /** The database files (SQLite only), for byte-level checks. */
  files?: { database: string; wal: string };
  /** Highest applied migration version and the number of rows in schema_migrations. */
  migrations(): Promise<{ version: number; rows: number }>;
  dispose(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./store-child.ts', import.meta.url));

export function account(id: string | number, extra: Partial<NewAccount> = {}): NewAccount {
  return {
    username: `user-${id}`,
    email: `User-${id}@Example.org`,
    displayName: `User ${id}`,
    status: 'active',
    itemname: `@user-${id}`,
    createdOn: '2026-01-02T03:04:05.000Z',
    lastLogin: null,
    ...extra,
  };
}

/** An account with fields of the wrong type, as a JavaScript caller could pass. */
function unchecked(fields: Record<string, unknown>): NewAccount {
  return { ...account(1), ...fields };
}

function keysOf(id: string | number) {
  return { access: `ACCESS${id}xq`, secret: `SECRET${id}zq-7f3a9c` };
}

/** Key order of both adapters: UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function all(store: AccountStore): Promise<Account[]> {
  return store.scan({ after: null, limit: 1_000_000 });
}

async function walkPurge(
  store: AccountStore,
  options: { limit: number; dryRun: boolean },
): Promise<PurgeBatchResult[]> {
  const batches: PurgeBatchResult[] = [];
  let after: string | null = null;
  for (;;) {
    const batch = await store.purgeS3KeysBatch({ after, limit: options.limit, dryRun: options.dryRun });
    if (batch.scanned === 0) return batches;
    batches.push(batch);
    after = batch.last;
  }
}

function runChild(args: string[], onLine?: (line: string) => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        onLine?.(line);
        newline = buffer.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(lines);
      else reject(new Error(`child exited with ${code}: ${stderr}`));
    });
  });
}

function fileBytes(path: string): Buffer {
  return existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
}

export function describeStoreContract(name: string, open: () => Promise<StoreTarget>): void {
  describe(`AccountStore contract: ${name}`, () => {
    let target: StoreTarget;
    let store: AccountStore;
    const extraStores: AccountStore[] = [];

    beforeEach(async () => {
      target = await open();
      store = await openAccountStore(target.url);
    });

    afterEach(async () => {
      for (const s of extraStores.splice(0)) await s.close();
      await store.close();
      await target.dispose();
    });

    describe('lookups and create', () => {
      it('creates an account at revision 1 and finds it by username, email and itemname', async () => {
        const created = await store.create(account(1));
        expect(created).toEqual({ ...account(1), revision: 1 });
        expect(await store.getByUsername('user-1')).toEqual(created);
        expect(await store.getByEmail('User-1@Example.org')).toEqual(created);
        expect(await store.getByItemname('@user-1')).toEqual(created);
        expect(await store.getByUsername('user-2')).toBeNull();
        expect(await store.getByEmail('user-2@example.org')).toBeNull();
        expect(await store.getByItemname('@user-2')).toBeNull();
      });

      it('finds an account by email whatever the case, and keeps the email as given', async () => {
        await store.create(account(1, { email: 'Mixed.Case@Example.ORG' }));
        for (const email of ['mixed.case@example.org', 'MIXED.CASE@EXAMPLE.ORG', 'Mixed.Case@Example.ORG']) {
          expect((await store.getByEmail(email))?.username).toBe('user-1');
        }
        expect((await store.getByUsername('user-1'))?.email).toBe('Mixed.Case@Example.ORG');
        // Usernames and itemnames are exact.
        expect(await store.getByUsername('USER-1')).toBeNull();
        expect(await store.getByItemname('@USER-1')).toBeNull();
      });

      it('fills in itemname and lastLogin as null when absent', async () => {
        const { itemname: _itemname, lastLogin: _lastLogin, ...bare } = account(1);
        const created = await store.create(bare);
        expect(created.itemname).toBeNull();
        expect(created.lastLogin).toBeNull();
        expect(await store.getByUsername('user-1')).toEqual(created);
      });

      it.each([
        ['username', account(9, { username: 'user-1' })],
        ['email', account(9, { email: 'USER-1@example.ORG' })],
        ['itemname', account(9, { itemname: '@user-1' })],
      ] as const)(
        'refuses a duplicate %s with AccountExistsError naming it, writing nothing',
        async (field, dup) => {
          await store.create(account(1));
          const error: unknown = await store.create(dup).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(AccountExistsError);
          expect((error as AccountExistsError).field).toBe(field);
          expect(await all(store)).toEqual([{ ...account(1), revision: 1 }]);
        },
      );

      it('lets any number of accounts have no itemname', async () => {
        await store.create(account(1, { itemname: null }));
        await store.create(account(2, { itemname: null }));
        expect((await all(store)).map((a) => a.username)).toEqual(['user-1', 'user-2']);
      });

      it('keeps unknown fields exactly as given', async () => {
        const unknown = {
          tags: ['a', 'b'],
          bot: false,
          data: { displayname: 'x', nested: { deep: [1, 2.5, null, { k: 'v' }] } },
          'odd key.with dots': 'π ✓ "quoted" \\ back',
          emptyObject: {},
          zero: 0,
        };
        const created = await store.create(account(1, unknown));
        expect(created).toMatchObject(unknown);
        expect(await store.getByUsername('user-1')).toEqual(created);
      });
    });

    describe('update', () => {
      it('applies changes, bumps the revision and returns the stored record', async () => {
        await store.create(account(1));
        const updated = await store.update('user-1', 1, {
          lastLogin: '2026-02-02T00:00:00.000Z',
          status: 'blocked',
        });
        expect(updated).toEqual({
          ...account(1),
          lastLogin: '2026-02-02T00:00:00.000Z',
          status: 'blocked',
          revision: 2,
        });
        expect(await store.getByUsername('user-1')).toEqual(updated);
      });

      it('fails on a stale revision with RevisionConflictError and changes nothing', async () => {
        await store.create(account(1));
        await store.update('user-1', 1, { displayName: 'First' });
        const error: unknown = await store
          .update('user-1', 1, { displayName: 'Lost' })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RevisionConflictError);
        const stored = await store.getByUsername('user-1');
        expect(stored?.displayName).toBe('First');
        expect(stored?.revision).toBe(2);
        await expect(store.update('user-1', 3, { displayName: 'Future' })).rejects.toBeInstanceOf(
          RevisionConflictError,
        );
      });

      it('throws AccountNotFoundError for an unknown username', async () => {
        await expect(store.update('nobody', 1, { displayName: 'x' })).rejects.toBeInstanceOf(
          AccountNotFoundError,
        );
      });

      it('keeps unknown fields and legacy keys, removes a field set to undefined', async () => {
        await store.create(account(1, { tags: ['t'], prefs: { a: 1 }, s3Keys: keysOf(1), gone: 'soon' }));
        const updated = await store.update('user-1', 1, {
          displayName: 'New',
          gone: undefined,
          prefs: { b: 2 },
        });
        expect(updated).toEqual({
          ...account(1),
          displayName: 'New',
          tags: ['t'],
          prefs: { b: 2 },
          s3Keys: keysOf(1),
          revision: 2,
        });
        expect(updated).not.toHaveProperty('gone');
        expect(await store.getByUsername('user-1')).toEqual(updated);
      });

      it('moves the email and itemname lookups with the record', async () => {
        await store.create(account(1));
        await store.update('user-1', 1, { email: 'New@Example.org', itemname: '@new' });
        expect(await store.getByEmail('user-1@example.org')).toBeNull();
        expect(await store.getByItemname('@user-1')).toBeNull();
        expect((await store.getByEmail('new@EXAMPLE.org'))?.username).toBe('user-1');
        expect((await store.getByItemname('@new'))?.username).toBe('user-1');
        await store.update('user-1', 2, { itemname: null });
        expect(await store.getByItemname('@new')).toBeNull();
        await store.create(account(2, { itemname: '@new' }));
        // Removing itemname (undefined) reads back as null, like an unlinked account.
        const unlinked = await store.update('user-2', 1, { itemname: undefined });
        expect(unlinked.itemname).toBeNull();
        expect(await store.getByItemname('@new')).toBeNull();
      });

      it('refuses to take another account’s email or itemname, writing nothing', async () => {
        await store.create(account(1));
        await store.create(account(2));
        const email: unknown = await store
          .update('user-2', 1, { email: 'USER-1@example.org' })
          .catch((e: unknown) => e);
        expect((email as AccountExistsError).field).toBe('email');
        const itemname: unknown = await store
          .update('user-2', 1, { itemname: '@user-1' })
          .catch((e: unknown) => e);
        expect((itemname as AccountExistsError).field).toBe('itemname');
        expect(await store.getByUsername('user-2')).toEqual({ ...account(2), revision: 1 });
      });

      it('refuses to remove a required field or rename the account', async () => {
        await store.create(account(1));
        await expect(store.update('user-1', 1, { email: undefined })).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        await expect(store.update('user-1', 1, { username: 'other' })).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        expect((await store.getByUsername('user-1'))?.revision).toBe(1);
      });
    });

    describe('scan', () => {
      it('returns accounts in key (byte) order, page by page from a cursor', async () => {
        const names = ['b', 'a', 'Z', 'a-1', 'é', '日本', '😀', 'ﬀ', 'a b', 'A'];
        for (const [i, username] of names.entries()) await store.create(account(i, { username }));
        const expected = [...names].sort(byteOrder);
        const seen: string[] = [];
        let after: string | null = null;
        for (;;) {
          const page: Account[] = await store.scan({ after, limit: 3 });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(3);
          seen.push(...page.map((a) => a.username));
          after = page.at(-1)!.username;
        }
        expect(seen).toEqual(expected);
        expect(await store.scan({ after: expected.at(-1)!, limit: 5 })).toEqual([]);
        expect(await store.scan({ limit: 0 })).toEqual([]);
      });

      it('returns every record exactly once while others are created and updated during the scan', async () => {
        const original: string[] = [];
        for (let i = 0; i < 60; i += 1) {
          const id = String(i).padStart(3, '0');
          await store.create(account(id));
          original.push(`user-${id}`);
        }
        const seen: string[] = [];
        let after: string | null = null;
        let step = 0;
        for (;;) {
          const page: Account[] = await store.scan({ after, limit: 7 });
          if (page.length === 0) break;
          seen.push(...page.map((a) => a.username));
          after = page.at(-1)!.username;
          // Writes between pages: new accounts before and after the cursor, updates behind and ahead of it.
          step += 1;
          if (step > 6) continue;
          await Promise.all([
            store.create(account(`000-${step}`)),
            store.create(account(`999-${step}`)),
            store.create(account(`${after.slice(5)}-x`)),
          ]);
          for (const username of [original[step]!, original[59 - step]!]) {
            const current = await store.getByUsername(username);
            await store.update(username, current!.revision, { lastLogin: `2026-03-0${step % 9}` });
          }
        }
        expect(new Set(seen).size).toBe(seen.length);
        for (const username of original) expect(seen).toContain(username);
        expect([...seen].sort(byteOrder)).toEqual(seen);
      });
    });

    describe('S3 keys', () => {
      it('removeS3Keys removes only the keys, atomically, and says whether there were any', async () => {
        await store.create(account(1, { s3Keys: keysOf(1), tags: ['x'] }));
        expect(await store.removeS3Keys('user-1')).toBe(true);
        const after = await store.getByUsername('user-1');
        expect(after).toEqual({ ...account(1), tags: ['x'], revision: 2 });
        expect(after).not.toHaveProperty('s3Keys');
        expect(await store.removeS3Keys('user-1')).toBe(false);
        expect((await store.getByUsername('user-1'))?.revision).toBe(2);
        expect(await store.removeS3Keys('nobody')).toBe(false);
      });

      it('saveS3Keys writes keys into an existing record only', async () => {
        await store.create(account(1));
        await saveS3Keys(store, 'user-1', keysOf(1));
        expect(await store.getByUsername('user-1')).toEqual({
          ...account(1),
          s3Keys: keysOf(1),
          revision: 2,
        });
        await expect(saveS3Keys(store, 'nobody', keysOf(2))).rejects.toBeInstanceOf(AccountNotFoundError);
      });

      it('seedLegacyAccounts creates missing accounts with keys, idempotently', async () => {
        const seeds = [1, 2, 3].map((i) => ({
          username: `legacy-${i}`,
          email: `legacy-${i}@example.org`,
          displayName: `Legacy ${i}`,
          itemname: `@legacy-${i}`,
          s3Keys: keysOf(i),
        }));
        await store.create(account(9, { username: 'legacy-3', email: 'other@example.org', itemname: null }));
        expect(await seedLegacyAccounts(store, seeds)).toBe(2);
        expect(await seedLegacyAccounts(store, seeds)).toBe(0);
        expect((await store.getByUsername('legacy-1'))?.s3Keys).toEqual(keysOf(1));
        expect((await store.getByUsername('legacy-3'))?.s3Keys).toBeUndefined();
      });
    });

    describe('sessions', () => {
      const NOW = 1_800_000_000;
      it('adds, lists and revokes sessions without touching the record or its revision', async () => {
        await store.create(account(1, { s3Keys: keysOf(1) }));
        await store.addSession('user-1', { id: 'a', expiresAt: NOW + 100 }, { now: NOW, max: 5 });
        await store.addSession('user-1', { id: 'b', expiresAt: NOW + 200 }, { now: NOW, max: 5 });
        const read = await store.getByUsername('user-1');
        expect(read).toEqual({
          ...account(1, { s3Keys: keysOf(1) }),
          revision: 1,
          sessions: [
            { id: 'a', expiresAt: NOW + 100 },
            { id: 'b', expiresAt: NOW + 200 },
          ],
        });
        // An update of the record keeps the sessions, and a stored record never holds them in its document.
        const updated = await store.update('user-1', 1, { displayName: 'X', sessions: [] });
        expect(updated.sessions).toEqual(read!.sessions);
        expect(await store.removeSession('user-1', 'a')).toBe(true);
        expect(await store.removeSession('user-1', 'a')).toBe(false);
        expect(await store.removeSession('nobody', 'b')).toBe(false);
        expect((await store.getByUsername('user-1'))?.sessions).toEqual([{ id: 'b', expiresAt: NOW + 200 }]);
        await store.addSession('user-1', { id: 'c', expiresAt: NOW + 300 }, { now: NOW, max: 5 });
        expect(await store.removeAllSessions('user-1')).toBe(2);
        const after = await store.getByUsername('user-1');
        expect(after).not.toHaveProperty('sessions');
        expect(after?.revision).toBe(2);
        expect(await store.removeAllSessions('user-1')).toBe(0);
        expect(await store.removeAllSessions('nobody')).toBe(0);
      });

      it('drops expired sessions and keeps only the newest max when adding', async () => {
        await store.create(account(1));
        await store.addSession('user-1', { id: 'old', expiresAt: NOW + 10 }, { now: NOW, max: 3 });
        for (const id of ['s1', 's2', 's3']) {
          await store.addSession('user-1', { id, expiresAt: NOW + 1000 }, { now: NOW + 20, max: 3 });
        }
        expect((await store.getByUsername('user-1'))?.sessions?.map((s) => s.id)).toEqual(['s1', 's2', 's3']);
        await store.addSession('user-1', { id: 's4', expiresAt: NOW + 1000 }, { now: NOW + 20, max: 3 });
        expect((await store.getByUsername('user-1'))?.sessions?.map((s) => s.id)).toEqual(['s2', 's3', 's4']);
        await expect(
          store.addSession('nobody', { id: 'x', expiresAt: NOW + 1 }, { now: NOW, max: 3 }),
        ).rejects.toBeInstanceOf(AccountNotFoundError);
        await expect(
          store.addSession('user-1', { id: '', expiresAt: NOW + 1 }, { now: NOW, max: 3 }),
        ).rejects.toBeInstanceOf(InvalidAccountInputError);
        await expect(
          store.addSession('user-1', { id: 'x', expiresAt: 1.5 }, { now: NOW, max: 3 }),
        ).rejects.toBeInstanceOf(InvalidAccountInputError);
      });

      it('loses no session when many are added and removed at once', async () => {
        await store.create(account(1));
        const ids = Array.from({ length: 12 }, (_, i) => `c${i}`);
        await Promise.all(
          ids.map((id) => store.addSession('user-1', { id, expiresAt: NOW + 1000 }, { now: NOW, max: 50 })),
        );
        expect((await store.getByUsername('user-1'))?.sessions?.map((s) => s.id).sort()).toEqual(
          [...ids].sort(),
        );
        const removed = await Promise.all(ids.slice(0, 6).map((id) => store.removeSession('user-1', id)));
        expect(removed).toEqual(Array(6).fill(true));
        expect((await store.getByUsername('user-1'))?.sessions?.map((s) => s.id).sort()).toEqual(
          ids.slice(6).sort(),
        );
      });
    });

    describe('purgeS3KeysBatch', () => {
      async function seed(count: number): Promise<Set<string>> {
        const holders = new Set<string>();
        for (let i = 0; i < count; i += 1) {
          const id = String(i).padStart(3, '0');
          const withKeys = i % 3 !== 1;
          await store.create(account(id, withKeys ? { s3Keys: keysOf(id), tags: [id] } : { tags: [id] }));
          if (withKeys) holders.add(`user-${id}`);
        }
        return holders;
      }

      it('dry run reports the holders batch by batch and writes nothing at all', async () => {
        const holders = await seed(40);
        const before = await all(store);
        const files = target.files;
        const bytesBefore = files && [fileBytes(files.database), fileBytes(files.wal)];
        const batches = await walkPurge(store, { limit: 7, dryRun: true });
        expect(batches.map((b) => b.scanned)).toEqual([7, 7, 7, 7, 7, 5]);
        expect(batches.flatMap((b) => b.withKeys)).toEqual([...holders].sort(byteOrder));
        expect(batches.flatMap((b) => b.purged)).toEqual([]);
        expect(batches.flatMap((b) => b.failed)).toEqual([]);
        expect(await all(store)).toEqual(before);
        if (files && bytesBefore) {
          expect(fileBytes(files.database).equals(bytesBefore[0]!)).toBe(true);
          expect(fileBytes(files.wal).equals(bytesBefore[1]!)).toBe(true);
        }
      });

      it('a real run visits every record once and removes the keys and nothing else', async () => {
        const holders = await seed(40);
        const before = new Map((await all(store)).map((a) => [a.username, a]));
        const batches = await walkPurge(store, { limit: 7, dryRun: false });
        const lasts = batches.map((b) => b.last!);
        expect([...lasts].sort(byteOrder)).toEqual(lasts);
        expect(batches.reduce((n, b) => n + b.scanned, 0)).toBe(40);
        expect(batches.flatMap((b) => b.purged)).toEqual([...holders].sort(byteOrder));
        expect(batches.flatMap((b) => b.withKeys)).toEqual([...holders].sort(byteOrder));
        for (const accountAfter of await all(store)) {
          const old = before.get(accountAfter.username)!;
          const { s3Keys: _keys, ...rest } = old;
          expect(accountAfter).not.toHaveProperty('s3Keys');
          expect(accountAfter).toEqual({ ...rest, revision: old.revision + (old.s3Keys ? 1 : 0) });
        }
        // A rerun finds nothing left to do.
        const again = await walkPurge(store, { limit: 100, dryRun: false });
        expect(again.flatMap((b) => b.purged)).toEqual([]);
        expect(await store.purgeS3KeysBatch({ after: null, limit: 0, dryRun: false })).toMatchObject({
          scanned: 0,
        });
      });

      it('an update made from an older read fails after the purge instead of bringing the keys back', async () => {
        await store.create(account(1, { s3Keys: keysOf(1) }));
        const read = (await store.getByUsername('user-1'))!;
        await walkPurge(store, { limit: 10, dryRun: false });
        await expect(store.update('user-1', read.revision, { lastLogin: 'x' })).rejects.toBeInstanceOf(
          RevisionConflictError,
        );
        const fresh = (await store.getByUsername('user-1'))!;
        const updated = await store.update('user-1', fresh.revision, { lastLogin: 'x' });
        expect(updated).not.toHaveProperty('s3Keys');
      });

      it('loses no update made by another process during the purge', { timeout: 120_000 }, async () => {
        const usernames: string[] = [];
        for (let i = 0; i < 12; i += 1) {
          await store.create(account(i, { s3Keys: keysOf(i) }));
          usernames.push(`user-${i}`);
        }
        const rounds = 40;
        let started!: () => void;
        const roundDone = new Promise<void>((resolve) => (started = resolve));
        let finished = false;
        const child = runChild(['increment', target.url, String(rounds), usernames.join(',')], (line) => {
          if (line === 'round') started();
          if (line.startsWith('done')) finished = true;
        });
        await Promise.race([roundDone, child]);
        let walks = 0;
        while (!finished) {
          // Put keys back and purge them again, in small batches, while the other process writes.
          for (const username of usernames.slice(0, 6)) await store.saveS3Keys(username, keysOf(username));
          await walkPurge(store, { limit: 2, dryRun: false });
          walks += 1;
          // Let the child's output events run (a synchronous adapter resolves every call at once).
          await new Promise((resolve) => setImmediate(resolve));
        }
        await child;
        await walkPurge(store, { limit: 5, dryRun: false });
        expect(walks).toBeGreaterThan(0);
        for (const username of usernames) {
          const stored = (await store.getByUsername(username))!;
          expect(stored.counter).toBe(rounds);
          expect(stored).not.toHaveProperty('s3Keys');
        }
      });
    });

    describe('migrations and lifecycle', () => {
      it('are applied once, however many stores open at the same time', async () => {
        const opened = await Promise.all([1, 2, 3].map(() => openAccountStore(target.url)));
        extraStores.push(...opened);
        await opened[0]!.create(account(1));
        expect((await opened[2]!.getByUsername('user-1'))?.username).toBe('user-1');
        const state = await target.migrations();
        expect(state.rows).toBe(state.version);
      });

      it(
        'are applied once when several processes open a fresh database at once',
        { timeout: 60_000 },
        async () => {
          const fresh = await open();
          try {
            const outputs = await Promise.all([1, 2, 3].map(() => runChild(['open', fresh.url])));
            expect(outputs).toEqual([['ok'], ['ok'], ['ok']]);
            const state = await fresh.migrations();
            expect(state.version).toBeGreaterThan(0);
            expect(state.rows).toBe(state.version);
          } finally {
            await fresh.dispose();
          }
        },
      );

      it('reopening keeps the data', async () => {
        await store.create(account(1, { extra: 1 }));
        const again = await openAccountStore(target.url);
        extraStores.push(again);
        expect(await again.getByUsername('user-1')).toEqual({ ...account(1, { extra: 1 }), revision: 1 });
      });

      it('ping answers; close is idempotent and later calls fail with an Error', async () => {
        await store.ping();
        const other = await openAccountStore(target.url);
        await other.close();
        await other.close();
        await expect(other.getByUsername('user-1')).rejects.toBeInstanceOf(Error);
        await expect(other.ping()).rejects.toBeInstanceOf(Error);
      });
    });

    describe('bad input', () => {
      it('stores and finds odd characters exactly, with no pattern matching', async () => {
        const odd = [
          `o'brien"; DROP TABLE accounts; --`,
          '%',
          '_',
          'a\\b',
          'ümlaut',
          'עברית',
          '👩‍💻',
          ' spaced ',
          'tab\tnew\nline',
        ];
        for (const [i, username] of odd.entries()) {
          await store.create(
            account(i, { username, email: `${username}@x${i}.org`, itemname: `@${username}` }),
          );
        }
        for (const [i, username] of odd.entries()) {
          expect((await store.getByUsername(username))?.username).toBe(username);
          expect((await store.getByEmail(`${username.toUpperCase()}@X${i}.ORG`))?.username).toBe(username);
          expect((await store.getByItemname(`@${username}`))?.username).toBe(username);
        }
        expect(await store.getByUsername('%%')).toBeNull();
        expect(await store.getByEmail('%@x2.org')).toBeNull();
        expect((await all(store)).length).toBe(odd.length);
      });

      it('refuses values no adapter can store, writing nothing', async () => {
        const bad: [string, NewAccount][] = [
          ['long username', account(1, { username: 'u'.repeat(10_000) })],
          ['long email', account(1, { email: `${'e'.repeat(10_000)}@x.org` })],
          ['long itemname', account(1, { itemname: `@${'i'.repeat(10_000)}` })],
          ['empty username', account(1, { username: '' })],
          ['NUL', account(1, { username: 'a\0b' })],
          ['NUL in a nested field', account(1, { prefs: { a: 'x\0' } })],
          ['lone surrogate', account(1, { displayName: 'x\uD800y' })],
          ['bad status', unchecked({ status: 'gone' })],
          ['non-string username', unchecked({ username: 42 })],
          ['bad keys', unchecked({ s3Keys: { access: 1 } })],
          ['not JSON', account(1, { when: new Date() })],
        ];
        for (const [label, input] of bad) {
          const error: unknown = await store.create(input).catch((e: unknown) => e);
          expect(error, label).toBeInstanceOf(InvalidAccountInputError);
        }
        await expect(store.create(null as never)).rejects.toBeInstanceOf(InvalidAccountInputError);
        expect(await all(store)).toEqual([]);
      });

      it('keeps very long values in fields that are not lookup keys', async () => {
        const long = 'ℓ'.repeat(100_000);
        await store.create(account(1, { displayName: long, notes: long }));
        const found = await store.getByUsername('user-1');
        expect(found?.displayName).toBe(long);
        expect(found?.notes).toBe(long);
      });

      it('answers lookups with impossible keys with null, not an error', async () => {
        await store.create(account(1));
        for (const key of ['x'.repeat(100_000), '', 'a\0b', '\uDC00', 42, null, undefined, {}]) {
          expect(await store.getByUsername(key as string)).toBeNull();
          expect(await store.getByEmail(key as string)).toBeNull();
          expect(await store.getByItemname(key as string)).toBeNull();
          expect(await store.removeS3Keys(key as string)).toBe(false);
        }
      });

      it('refuses bad scan, update and purge arguments with a clear error', async () => {
        await store.create(account(1));
        await expect(store.scan({ limit: -1 })).rejects.toBeInstanceOf(InvalidAccountInputError);
        await expect(store.scan({ limit: 1.5 })).rejects.toBeInstanceOf(InvalidAccountInputError);
        await expect(store.scan({ after: 7 as never, limit: 1 })).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        await expect(store.update('user-1', -1, {})).rejects.toBeInstanceOf(InvalidAccountInputError);
        await expect(store.update('user-1', 1, null as never)).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        await expect(store.update('user-1', 1, { displayName: 'a\0' })).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        await expect(store.purgeS3KeysBatch({ after: null, limit: -5, dryRun: true })).rejects.toBeInstanceOf(
          InvalidAccountInputError,
        );
        await expect(
          store.purgeS3KeysBatch({ after: null, limit: 5, dryRun: 'no' as never }),
        ).rejects.toBeInstanceOf(InvalidAccountInputError);
        expect((await store.getByUsername('user-1'))?.revision).toBe(1);
      });
    });
  });
}
