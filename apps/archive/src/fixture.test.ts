import { describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, defaultFixture, demoPatrons, legacyAccountSeeds } from './fixture';

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

  it('has 25 or more books with 1 to 3 copies and unique identifiers', () => {
    expect(fixture.books.length).toBeGreaterThanOrEqual(25);
    expect(new Set(fixture.books.map((b) => b.identifier)).size).toBe(fixture.books.length);
    for (const book of fixture.books) expect(book.copies).toBeGreaterThanOrEqual(1);
    for (const book of fixture.books) expect(book.copies).toBeLessThanOrEqual(3);
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
