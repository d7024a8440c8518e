// `pnpm lending` as a subprocess against the real server and the archive.org stand-in.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBooks, demoPatron, startLendingStack } from './lending-stack';
import type { LendingStack } from './lending-stack';

const toolsRoot = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function lending(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/lending-main.ts', ...args],
      // Only what the command needs, so a developer's own LENDING_* never leaks into the test.
      { cwd: toolsRoot, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let stack: LendingStack;
let keys: Record<string, string>;
beforeAll(async () => {
  stack = await startLendingStack();
  const patron = demoPatron(1);
  keys = { LENDING_URL: stack.url, LENDING_ACCESS: patron.access, LENDING_SECRET: patron.secret };
});
afterAll(async () => {
  await stack?.close();
});

// Each run starts node + tsx (seconds on a busy machine): generous timeouts, independent runs in parallel.
describe('pnpm lending', { timeout: 180_000 }, () => {
  it('borrows, lists and returns a book', async () => {
    const [identifier] = await availableBooks(stack.archive, 1, 3);

    const empty = await lending(['loans'], keys);
    expect(empty).toMatchObject({ code: 0, stderr: '' });
    expect(empty.stdout).toMatch(/has no books on loan/);

    const borrow = await lending(['borrow', identifier!], keys);
    expect(borrow.stderr).toBe('');
    expect(borrow.code).toBe(0);
    expect(borrow.stdout).toMatch(new RegExp(`^Borrowed .*${identifier}.*due `));

    const loans = await lending(['loans'], keys);
    expect(loans.code).toBe(0);
    expect(loans.stdout).toContain(identifier);
    expect(loans.stdout).toMatch(/has 1 book on loan/);

    const returned = await lending(['return', identifier!], keys);
    expect(returned).toMatchObject({ code: 0, stdout: `Returned ${identifier}.\n` });
    // Keys never reach the output.
    for (const run of [empty, borrow, loans, returned]) {
      expect(run.stdout + run.stderr).not.toContain(keys.LENDING_SECRET);
    }
  });

  it('prints a BookReader link for a book on loan, which the stand-in opens, and refuses one not on loan', async () => {
    const [identifier] = await availableBooks(stack.archive, 1, 3);
    const refused = await lending(['read', identifier!], keys);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/You do not have this book on loan now.*\(not_borrowed\)/);

    expect((await lending(['borrow', identifier!], keys)).code).toBe(0);
    const read = await lending(['read', identifier!], keys);
    expect(read).toMatchObject({ code: 0, stderr: '' });
    const url = read.stdout.trim();
    expect(url).toMatch(
      new RegExp(`^${stack.archive.url}/bookreader/BookReaderAuth\\.php\\?uuid=loan-${identifier}&`),
    );
    expect((await fetch(url)).status).toBe(200);
    expect((await lending(['return', identifier!], keys)).code).toBe(0);
    expect((await fetch(url)).status).toBe(403);
  });

  it('exits 2 with the usage for bad arguments', async () => {
    const cases = [
      [],
      ['steal', 'x'],
      ['borrow'],
      ['return', 'a', 'b'],
      ['loans', 'extra'],
      ['borrow', 'x', '--fast'],
      ['read'],
      ['read', 'x', '--browse'],
    ];
    const runs = await Promise.all(cases.map((args) => lending(args, keys)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]!.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^lending: /);
      expect(run.stderr).toContain('Usage: pnpm lending');
    });
    const help = await lending(['--help'], {});
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toContain('LENDING_ACCESS');
  });

  it('exits 2 without keys or with a bad LENDING_URL', async () => {
    const [noKeys, badUrl] = await Promise.all([
      lending(['loans'], { LENDING_URL: stack.url }),
      lending(['loans'], { ...keys, LENDING_URL: 'ftp://example.org' }),
    ]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/set LENDING_ACCESS and LENDING_SECRET/);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/LENDING_URL/);
  });

  it('exits 1 with a clear message when the server refuses or is not there', async () => {
    const [wrongKeys, badIdentifier, unknownBook, down] = await Promise.all([
      lending(['loans'], { ...keys, LENDING_SECRET: 'not-the-secret' }),
      lending(['return', 'no such book'], keys),
      lending(['borrow', 'no_such_book_in_the_catalogue'], keys),
      lending(['loans'], { ...keys, LENDING_URL: 'http://127.0.0.1:9' }),
    ]);
    expect(wrongKeys.code).toBe(1);
    expect(wrongKeys.stderr).toMatch(/refused the keys.*\(invalid_s3keys\)/);
    expect(wrongKeys.stderr).not.toContain('not-the-secret');

    expect(badIdentifier.code).toBe(1);
    expect(badIdentifier.stderr).toMatch(/^lending: identifier: /);

    expect(unknownBook.code).toBe(1);
    expect(unknownBook.stderr).toMatch(/^lending: .+ \([a-z_]+\)\n$/);

    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Cannot reach the Lending server at http:\/\/127\.0\.0\.1:9/);
  });
});
