import { describe, expect, it } from 'vitest';
import { demoPatrons } from '../src/app';
import { raw, useArchive } from './support';

const archive = useArchive();
const demo = demoPatrons()[0]!;

describe('s3auth', () => {
  const s3auth = (authorization?: string) =>
    raw(`${archive.current.url}/services/s3auth/`, {
      headers: authorization === undefined ? {} : { authorization },
    });

  it('answers the patron for right keys; username is the email', async () => {
    const res = await s3auth(`LOW ${demo.access}:${demo.secret}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authorized: true,
      username: 'patron@example.org',
      itemname: '@demo_patron',
      screenname: 'Demo Patron',
    });
  });

  it('refuses wrong keys with 401 and a malformed header with 400', async () => {
    expect(await s3auth(`LOW ${demo.access}:wrong`)).toMatchObject({
      status: 401,
      body: { authorized: false },
    });
    expect(await s3auth(`LOW nobody:${demo.secret}`)).toMatchObject({
      status: 401,
      body: { authorized: false },
    });
    for (const header of [
      undefined,
      '',
      'LOW ',
      `LOW ${demo.access}`,
      `Basic ${demo.access}:${demo.secret}`,
    ]) {
      expect(await s3auth(header)).toMatchObject({ status: 400, body: { authorized: false } });
    }
  });
});

describe('other paths and injected faults', () => {
  it('unknown paths are 404 JSON', async () => {
    const res = await raw(`${archive.current.url}/nope`);
    expect(res).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('plays a status, non-JSON, bad shape and reset fault on the chosen path only', async () => {
    const url = `${archive.current.url}/advancedsearch.php?q=collection:inlibrary&output=json`;
    archive.current.state.fault = { kind: 'status', status: 503, path: '/advancedsearch' };
    expect((await fetch(url)).status).toBe(503);
    expect((await fetch(`${archive.current.url}/services/s3auth/`)).status).toBe(400);

    archive.current.state.fault = { kind: 'non_json' };
    const html = await fetch(url);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    await html.text();

    archive.current.state.fault = { kind: 'bad_shape' };
    expect(await (await fetch(url)).json()).toEqual({ unexpected: true });

    archive.current.state.fault = { kind: 'reset' };
    await expect(fetch(url)).rejects.toThrow();

    archive.current.state.fault = { kind: 'hang' };
    await expect(fetch(url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });
});
