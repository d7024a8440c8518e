import { describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, MAX_AVAILABILITY_IDS, defaultFixture, demoPatrons } from '../src/app';
import { availability, keysOf, loan, raw, useArchive } from './support';

const archive = useArchive({ catalogue: 'full' });
const patrons = demoPatrons();
const [demo, reader] = patrons;
const books = defaultFixture({ catalogue: 'full' }).books;
const lendable = books.filter((b) => b.collections.includes('inlibrary'));
const single = lendable.find((b) => b.copies === 1)!.identifier;
const three = lendable.find((b) => b.copies === 3)!.identifier;
const printDisabledOnly = books.find((b) => !b.collections.includes('inlibrary'))!.identifier;

type Responses = Record<string, Record<string, unknown>>;
const responses = (answer: { body: Record<string, unknown> }) => answer.body.responses as Responses;

describe('availability v2', () => {
  it('answers every identifier of a batch in one call, in the v2 shape', async () => {
    const answer = await availability(archive.current.url, [three, single, printDisabledOnly]);
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/application\/json/);
    expect(answer.body.success).toBe(true);
    expect(Object.keys(responses(answer))).toEqual([three, single, printDisabledOnly]);
    expect(responses(answer)[three]).toEqual({
      status: 'borrow_available',
      error_message: null,
      available_to_browse: true,
      available_to_borrow: true,
      available_to_waitlist: false,
      is_printdisabled: true,
      is_readable: false,
      is_lendable: true,
      is_previewable: true,
      identifier: three,
      collection: 'inlibrary,printdisabled',
      isbn: null,
      oclc: null,
      openlibrary_work: null,
      openlibrary_edition: null,
      last_loan_date: null,
      num_waitlist: '0',
      last_waitlist_date: null,
    });
    expect(responses(answer)[printDisabledOnly]).toMatchObject({
      status: 'private',
      is_lendable: false,
      is_printdisabled: true,
      available_to_borrow: false,
      available_to_browse: false,
      available_to_waitlist: false,
      collection: 'printdisabled',
    });
  });

  it('follows the loans: unavailable when every copy is out, waitlist size as a string, dates', async () => {
    await loan(archive.current.url, 'borrow_book', single, keysOf(demo!));
    await loan(archive.current.url, 'join_waitlist', single, keysOf(reader!));
    const entry = responses(await availability(archive.current.url, [single]))[single]!;
    expect(entry).toMatchObject({
      status: 'borrow_unavailable',
      available_to_borrow: false,
      available_to_browse: false,
      available_to_waitlist: true,
      num_waitlist: '1',
    });
    expect(entry.last_loan_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(entry.last_waitlist_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The returned copy is held for the head of the waitlist: nobody else may borrow it.
    await loan(archive.current.url, 'return_loan', single, keysOf(demo!));
    expect(responses(await availability(archive.current.url, [single]))[single]).toMatchObject({
      status: 'borrow_unavailable',
      available_to_borrow: false,
    });
  });

  it('answers an unknown identifier as archive.org does, and each distinct identifier once', async () => {
    const answer = await availability(archive.current.url, [
      'nosuchbook00none',
      three,
      three,
      ' nosuchbook00none',
    ]);
    expect(responses(answer)).toEqual({
      nosuchbook00none: { status: 'error', error_message: 'not found' },
      [three]: expect.objectContaining({ status: 'borrow_available' }) as unknown,
    });
  });

  it('reads openlibrary_work lists too (the stand-in’s books have no Open Library ids)', async () => {
    const headers = { authorization: `LOW ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}` };
    const answer = await raw(`${archive.current.url}/services/availability/?openlibrary_work=OL1W,OL2W`, {
      headers,
    });
    expect(responses(answer)).toEqual({
      OL1W: { status: 'error', error_message: 'not found' },
      OL2W: { status: 'error', error_message: 'not found' },
    });
  });

  it(`takes up to ${MAX_AVAILABILITY_IDS} identifiers per call and refuses more`, async () => {
    const many = Array.from({ length: MAX_AVAILABILITY_IDS }, (_, i) => `book${i}`);
    many[0] = three;
    const ok = await availability(archive.current.url, many);
    expect(ok.status).toBe(200);
    expect(Object.keys(responses(ok))).toHaveLength(MAX_AVAILABILITY_IDS);
    const tooMany = await availability(archive.current.url, [...many, 'onemore']);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ success: false, error: expect.stringMatching(/at most 500/) as unknown });
  });

  it('refuses a call without Lending’s service keys', async () => {
    for (const authorization of [
      null,
      '',
      `LOW ${DEMO_SERVICE_KEYS.access}:wrong`,
      `LOW ${demo!.access}:${demo!.secret}`,
      `Basic ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}`,
      `LOW ${DEMO_SERVICE_KEYS.access}`,
    ]) {
      const answer = await availability(archive.current.url, [three], authorization);
      expect(answer.status, String(authorization)).toBe(401);
      expect(answer.body).toEqual({ success: false, error: 'unauthorized' });
    }
  });

  it('answers bad input with 400 JSON', async () => {
    const headers = { authorization: `LOW ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}` };
    for (const query of [
      '',
      'identifier=',
      'identifier=a,,b',
      'identifier=../etc/passwd',
      'identifier=__proto__',
      'identifier=a&identifier=b',
      'identifier=a&openlibrary_work=OL1W',
      'identifier=a&scope=everything',
      `identifier=${'x'.repeat(101)}`,
    ]) {
      const answer = await raw(`${archive.current.url}/services/availability/?${query}`, { headers });
      expect(answer.status, query).toBe(400);
      expect(answer.body.success).toBe(false);
    }
    const post = await raw(`${archive.current.url}/services/availability/?identifier=${three}`, {
      method: 'POST',
      headers,
    });
    expect(post.status).toBe(405);
  });
});
