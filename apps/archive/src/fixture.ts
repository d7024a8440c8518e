import { z } from 'zod';
import { DEMO_PASSWORDS } from './demo-logins';
import fixtureJson from './fixture.json';

const keysSchema = z.object({ access: z.string().min(1), secret: z.string().min(1) });

const patronSchema = z.object({
  email: z.email(),
  screenname: z.string().min(1),
  itemname: z.string().regex(/^@[a-z0-9_.-]+$/),
  /** node:crypto scrypt, `salt$hash` in hex (see passwords.ts). */
  passwordHash: z.string().regex(/^[0-9a-f]{32}\$[0-9a-f]{128}$/),
  verified: z.boolean(),
  locked: z.boolean(),
  /** 'legacy': authenticate answers with values.access/secret, as xauthn did before #12942. */
  authenticateShape: z.enum(['current', 'legacy']),
  s3: keysSchema,
  /** Set for patrons whose Lending account record predates the change (plaintext s3Keys in the store). */
  legacyStoreUsername: z.string().min(1).optional(),
});

const bookSchema = z.object({
  identifier: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  title: z.string().min(1),
  creator: z.string(),
  year: z.number().int().nullable(),
  copies: z.number().int().min(1),
});

export const archiveFixtureSchema = z.object({
  serviceKeys: keysSchema,
  patrons: z.array(patronSchema),
  books: z.array(bookSchema),
});

export type ArchiveFixture = z.infer<typeof archiveFixtureSchema>;
export type FixturePatron = ArchiveFixture['patrons'][number];
export type FixtureBook = ArchiveFixture['books'][number];

/** The fixture shipped with the app (src/fixture.json), validated. */
export function defaultFixture(): ArchiveFixture {
  return archiveFixtureSchema.parse(fixtureJson);
}

/** The service keys the default fixture accepts on xauthn. */
export const DEMO_SERVICE_KEYS: { access: string; secret: string } = { ...defaultFixture().serviceKeys };

export interface DemoPatron {
  email: string;
  password: string;
  screenname: string;
  itemname: string;
  access: string;
  secret: string;
  locked: boolean;
  verified: boolean;
}

/** DEMO ONLY: the default fixture's patrons with their plaintext passwords, for tests and the README. */
export function demoPatrons(): DemoPatron[] {
  return defaultFixture().patrons.map((patron) => ({
    email: patron.email,
    password: DEMO_PASSWORDS[patron.email] ?? '',
    screenname: patron.screenname,
    itemname: patron.itemname,
    access: patron.s3.access,
    secret: patron.s3.secret,
    locked: patron.locked,
    verified: patron.verified,
  }));
}

/** Same shape as @lending/accounts' LegacyAccountSeed (kept structural: this app does not depend on it). */
export interface LegacyAccountSeedData {
  username: string;
  email: string;
  displayName: string;
  itemname: string;
  s3Keys: { access: string; secret: string };
}

/** Account-store records in the pre-change state (plaintext s3Keys) for the fixture's legacy patrons. */
export function legacyAccountSeeds(fixture: ArchiveFixture = defaultFixture()): LegacyAccountSeedData[] {
  return fixture.patrons.flatMap((patron) =>
    patron.legacyStoreUsername
      ? [
          {
            username: patron.legacyStoreUsername,
            email: patron.email,
            displayName: patron.screenname,
            itemname: patron.itemname,
            s3Keys: { ...patron.s3 },
          },
        ]
      : [],
  );
}
