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
  /** xauthn info's `has_disability_access`: may borrow the books only print-disabled patrons may. */
  hasDisabilityAccess: z.boolean().default(false),
  s3: keysSchema,
  /** Set for patrons whose Lending account record predates the change (plaintext s3Keys in the store). */
  legacyStoreUsername: z.string().min(1).optional(),
});

/** An archive.org identifier: letters, digits, `_`, `-`, `.`, at most 100 characters. */
export const identifierSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/);

/** Lendable books are in `inlibrary` and `printdisabled`; books only print-disabled patrons may borrow in `printdisabled` alone. */
const LENDABLE_COLLECTIONS = ['inlibrary', 'printdisabled'];

const bookSchema = z.object({
  identifier: identifierSchema,
  title: z.string().min(1),
  creator: z.string(),
  year: z.number().int().nullable(),
  copies: z.number().int().min(1),
  collections: z.array(z.string().regex(/^[a-z0-9_-]+$/)).default(LENDABLE_COLLECTIONS),
});

export const archiveFixtureSchema = z.object({
  /** Lending's own service keys: xauthn (in the body) and availability v2 (`Authorization: LOW`). */
  serviceKeys: keysSchema,
  /** Open Library's `ia_ol_shared_key`: the `token` of the internal lending API (openlibrary.php). */
  loanApiToken: z.string().min(16),
  /** Open Library's `ia_access_secret`: the HMAC key of BookReader auth links. */
  accessSecret: z.string().min(16),
  patrons: z.array(patronSchema),
  books: z.array(bookSchema),
});

export type ArchiveFixture = z.infer<typeof archiveFixtureSchema>;
export type FixturePatron = ArchiveFixture['patrons'][number];
export type FixtureBook = ArchiveFixture['books'][number];

/**
 * Which books the stand-in serves. `classic`: the 30 lendable books it always had, still the default for
 * `startArchive()` because tests elsewhere pin that catalogue until Lending's client pages through search.
 * `full`: those plus 125 more lendable books and 6 that only print-disabled patrons may borrow.
 */
export type Catalogue = 'classic' | 'full';

/** The fixture shipped with the app (src/fixture.json), validated. */
export function defaultFixture(options: { catalogue?: Catalogue } = {}): ArchiveFixture {
  const { moreBooks, ...fixture } = fixtureJson;
  const books = options.catalogue === 'full' ? [...fixture.books, ...moreBooks] : fixture.books;
  return archiveFixtureSchema.parse({ ...fixture, books });
}

const shipped = defaultFixture();

/** The service keys the default fixture accepts on xauthn and availability. */
export const DEMO_SERVICE_KEYS: { access: string; secret: string } = { ...shipped.serviceKeys };
/** The internal lending API's token in the default fixture (a development value). */
export const DEMO_LOAN_API_TOKEN: string = shipped.loanApiToken;
/** The BookReader links' HMAC key in the default fixture (a development value). */
export const DEMO_ACCESS_SECRET: string = shipped.accessSecret;

export interface DemoPatron {
  email: string;
  password: string;
  screenname: string;
  itemname: string;
  access: string;
  secret: string;
  locked: boolean;
  verified: boolean;
  hasDisabilityAccess: boolean;
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
    hasDisabilityAccess: patron.hasDisabilityAccess,
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
