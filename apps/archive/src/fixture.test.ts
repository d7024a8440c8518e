import { describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, defaultFixture, demoPatrons, legacyAccountSeeds } from './fixture';
import fixtureJson from './fixture.json';

describe('the default fixture', () => {
  const fixture = defaultFixture();

  it('has the documented demo patron first', () => {
    expect(demoPatrons()[0]).toMatchObject({
      email: 'patron@example.org',
      password: 'lending-demo-2026',
      screenname: 'Demo Patron',
      locked: false,
      verified: true,
    });
  });

  it('has ordinary, locked, unverified, legacy-shape and legacy-store patrons', () => {
    const ordinary = fixture.patrons.filter(
      (p) => !p.locked && p.verified && p.authenticateShape === 'current' && !p.legacyStoreUsername,
    );
    expect(ordinary.length).toBeGreaterThanOrEqual(3);
    expect(fixture.patrons.some((p) => p.locked)).toBe(true);
    expect(fixture.patrons.some((p) => !p.verified)).toBe(true);
    expect(fixture.patrons.some((p) => p.authenticateShape === 'legacy')).toBe(true);
    expect(legacyAccountSeeds().length).toBeGreaterThanOrEqual(2);
  });

  it('stores hashes, never the demo passwords', () => {
    const text = JSON.stringify(fixture);
    for (const patron of demoPatrons()) {
      expect(patron.password).not.toBe('');
      expect(text).not.toContain(patron.password);
    }
  });

  it('has a print-disabled patron, last, so the others keep their places', () => {
    expect(fixture.patrons.filter((p) => p.hasDisabilityAccess).map((p) => p.email)).toEqual([
      'print-disabled@example.org',
    ]);
    expect(fixture.patrons.at(-1)?.hasDisabilityAccess).toBe(true);
  });

  it('serves the classic 30 lendable books by default and the full catalogue on request', () => {
    expect(fixture.books).toHaveLength(30);
    expect(fixture.books.every((b) => b.collections.includes('inlibrary'))).toBe(true);
    const full = defaultFixture({ catalogue: 'full' }).books;
    expect(full.slice(0, 30)).toEqual(fixture.books);
    expect(full.filter((b) => b.collections.includes('inlibrary'))).toHaveLength(155);
    expect(full.filter((b) => !b.collections.includes('inlibrary')).map((b) => b.collections)).toEqual(
      Array.from({ length: 6 }, () => ['printdisabled']),
    );
  });

  it('has books with 1 to 3 copies, unique IA-style identifiers and plausible years', () => {
    const full = defaultFixture({ catalogue: 'full' }).books;
    expect(new Set(full.map((b) => b.identifier)).size).toBe(full.length);
    for (const book of full) {
      expect(book.copies).toBeGreaterThanOrEqual(1);
      expect(book.copies).toBeLessThanOrEqual(3);
      expect(book.identifier).toMatch(/^[a-z0-9]{1,16}00[a-z]{1,4}(_\d)?$/);
      if (book.year !== null) expect(book.year).toBeLessThan(1929); // public domain in the US
    }
    expect(new Set(fixtureJson.moreBooks.map((b) => b.copies))).toEqual(new Set([1, 2, 3]));
  });

  it('legacy seeds carry keys the stand-in accepts', () => {
    for (const seed of legacyAccountSeeds()) {
      const patron = fixture.patrons.find((p) => p.email === seed.email);
      expect(seed.s3Keys).toEqual(patron?.s3);
      expect(seed.itemname).toMatch(/^@/);
    }
    expect(DEMO_SERVICE_KEYS).toEqual(fixture.serviceKeys);
  });
});
