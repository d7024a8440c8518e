// The seed command: realistic, reproducible accounts, written in the very layout the store itself writes.
import { afterEach, describe, expect, it } from 'vitest';
import { openAccountStore } from '@lending/accounts';
import type { AccountRecord } from '@lending/accounts';
import { countWithKeys, generateAccounts } from '../src/seed';
import { backends, readAllAccounts, runTool, seedStore } from './purge-helpers';
import type { TestDatabase } from './purge-helpers';

const options = { accounts: 2000, withKeysPercent: 30, seed: 99, tag: '2r' };

describe('generateAccounts', () => {
  it('is reproducible, unique, and gives exactly the requested share of key holders', () => {
    const all = [...generateAccounts(options, 300)].flat();
    const again = [...generateAccounts(options, 700)].flat();
    expect(again).toEqual(all);
    expect(all).toHaveLength(2000);
    expect(new Set(all.map((a) => a.username)).size).toBe(2000);
    expect(new Set(all.map((a) => a.email.toLowerCase())).size).toBe(2000);
    const holders = all.filter((a) => a.s3Keys);
    expect(holders).toHaveLength(600);
    expect(countWithKeys(options)).toBe(600);
    for (const { s3Keys } of holders) {
      expect(s3Keys?.access).toMatch(/^[A-Za-z0-9]{16}$/);
      expect(s3Keys?.secret).toMatch(/^[A-Za-z0-9]{16}$/);
    }
    // Spread over years, some never logged in, some not linked, some with fields the code does not know.
    const years = new Set(all.map((a) => a.createdOn.slice(0, 4)));
    expect(years.size).toBeGreaterThan(10);
    expect(all.some((a) => a.lastLogin === null)).toBe(true);
    expect(all.some((a) => a.itemname === null)).toBe(true);
    expect(all.some((a) => a.preferences !== undefined)).toBe(true);
    expect(all.every((a) => a.lastLogin === null || a.lastLogin >= a.createdOn)).toBe(true);
    expect(countWithKeys({ accounts: 10, withKeysPercent: 0 })).toBe(0);
    expect(
      [...generateAccounts({ ...options, accounts: 10, withKeysPercent: 100 }, 4)]
        .flat()
        .every((a) => a.s3Keys),
    ).toBe(true);
  });
});

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.dispose()));
});

describe.each(await backends())('seed on $name', (backend) => {
  it('stores records exactly as the store would have created them', { timeout: 60_000 }, async () => {
    const bulk = await backend.create();
    const viaStore = await backend.create();
    databases.push(bulk, viaStore);
    await seedStore(bulk.url, 500, 30, 5);

    const records: AccountRecord[] = [
      ...generateAccounts({ accounts: 500, withKeysPercent: 30, seed: 5, tag: '5' }, 500),
    ].flat();
    const store = await openAccountStore(viaStore.url);
    try {
      for (const { s3Keys, ...record } of records) {
        await store.create(record);
        if (s3Keys) await store.saveS3Keys(record.username, s3Keys);
      }
    } finally {
      await store.close();
    }
    const seeded = await readAllAccounts(bulk.url);
    const created = await readAllAccounts(viaStore.url);
    expect(seeded.size).toBe(500);
    for (const [username, account] of created) {
      // saveS3Keys bumped the revision of key holders; the documents are identical.
      const { revision, ...doc } = account;
      const { revision: seededRevision, ...seededDoc } = seeded.get(username) ?? { revision: -1 };
      expect(seededDoc).toEqual(doc);
      expect(seededRevision).toBe(1);
      expect(revision).toBe(account.s3Keys ? 2 : 1);
    }
    // Lookups by email (case-insensitive) and itemname work on seeded rows.
    const sample = records.find((r) => r.itemname !== null) as AccountRecord;
    const reader = await openAccountStore(bulk.url);
    try {
      expect((await reader.getByEmail(sample.email.toUpperCase()))?.username).toBe(sample.username);
      expect((await reader.getByItemname(sample.itemname as string))?.username).toBe(sample.username);
    } finally {
      await reader.close();
    }
  });

  it('refuses bad usage with exit 2', { timeout: 30_000 }, async () => {
    const missing = await runTool('src/seed-main.ts', ['--with-keys', '30']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--accounts N is required');
    const bad = await runTool('src/seed-main.ts', ['--accounts', '10', '--with-keys', '101']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--with-keys must be between 0 and 100');
  });
});
