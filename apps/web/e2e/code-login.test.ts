// Issue 14 §3-4 in a real browser: log in with a one-time code read from the stand-in's dev outbox, and
// print-disabled access (the badge, the books only print-disabled readers may borrow, who is offered them).
import { defaultFixture, demoPatrons } from '@lending/archive';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  expectScreen,
  hasBrowser,
  lendingCookies,
  logIn,
  openPage,
  screenshot,
  useSystem,
  waitForStatus,
} from './harness';
import type { System } from './harness';

const patrons = demoPatrons();
const demo = patrons.find((p) => p.email === 'scholar@example.org')!;
const pd = patrons.find((p) => p.hasDisabilityAccess)!;
const ordinary = patrons.find((p) => p.email === 'reader@example.org')!;

// The stand-in's full catalogue (its default), with the books only print-disabled patrons may borrow.
const pdOnlyBooks = defaultFixture({ catalogue: 'full' }).books.filter(
  (b) => !b.collections.includes('inlibrary'),
);
const pdTitle = pdOnlyBooks[0]!.title;

let system: System;
useSystem((started) => (system = started));

/** The newest code "emailed" to `email`, from the stand-in's dev-only outbox. */
async function outboxCode(email: string): Promise<string> {
  const res = await fetch(`${system.archive.url}/_dev/outbox?email=${encodeURIComponent(email)}`);
  const { messages } = (await res.json()) as { messages: { code: string }[] };
  if (!messages[0]) throw new Error(`no code was sent to ${email}`);
  return messages[0].code;
}

function card(page: Page, title: string) {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

/** Finds a book as the README's walkthrough says: by searching the catalogue for its title. */
async function searchFor(page: Page, title: string): Promise<void> {
  await page.getByLabel('Search by title or author').fill(title);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await card(page, title).waitFor();
}

describe.skipIf(!hasBrowser)('log in with an emailed code', () => {
  it('requests a code, reads it from the outbox, logs in and sees the catalogue', async () => {
    const { context, page } = await openPage(system);
    await page.goto('/');
    await expectScreen(page, 'Log in');
    await page.getByRole('button', { name: 'Email me a code instead' }).click();
    await page.getByLabel('Email').fill(demo.email);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await waitForStatus(page, 'a code is on its way');
    const codeField = page.getByLabel('Code from the email');
    await codeField.waitFor();
    expect(await codeField.inputValue()).toBe('');
    await screenshot(page, 'code-login-enter-code');

    // A wrong code first: the patron's words for invalid_code, next to the field.
    const code = await outboxCode(demo.email);
    await codeField.fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Log in with code' }).click();
    await page.getByText('That code is not valid').waitFor();
    expect(await codeField.getAttribute('aria-invalid')).toBe('true');

    await codeField.fill(code);
    await page.getByRole('button', { name: 'Log in with code' }).click();
    await expectScreen(page, 'Catalogue');
    const books = page.locator('ul.books > li');
    await books.first().waitFor();
    await page.getByText(/^Page 1 of \d+$/).waitFor();
    const cookies = await lendingCookies(context);
    expect(cookies.session?.httpOnly).toBe(true);
    expect(cookies.s3?.httpOnly).toBe(true);
    expect(await page.locator('.who').textContent()).toContain(demo.screenname);
    await context.close();
  });

  it('answers an unknown email like a known one, and goes back to the password form', async () => {
    const { context, page } = await openPage(system);
    await page.goto('/');
    await page.getByRole('button', { name: 'Email me a code instead' }).click();
    await page.getByLabel('Email').fill('nobody-here@example.org');
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await waitForStatus(page, 'If nobody-here@example.org has an archive.org account, a code is on its way.');
    await page.getByLabel('Code from the email').waitFor();
    await page.getByRole('button', { name: 'Use my password instead' }).click();
    await page.getByLabel('Password').waitFor();
    await context.close();
  });
});

describe.skipIf(!hasBrowser)('print-disabled access', () => {
  it('shows the badge to a print-disabled patron, who may borrow a book only such readers may', async () => {
    const { context, page } = await openPage(system);
    await logIn(page, pd.email, pd.password);
    await page.getByText('Print-disabled access', { exact: true }).waitFor();
    await searchFor(page, pdTitle);
    const book = card(page, pdTitle);
    await book.getByText('For print-disabled readers only').waitFor();
    await book.getByRole('button', { name: 'Borrow', exact: true }).click();
    await waitForStatus(page, `You borrowed “${pdTitle}”`);
    await book.getByRole('button', { name: 'Return' }).waitFor();
    await screenshot(page, 'print-disabled-catalogue');
    await book.getByRole('button', { name: 'Return' }).click();
    await book.getByRole('button', { name: 'Borrow', exact: true }).waitFor();
    await context.close();
  });

  it('marks the book for other patrons too, without offering it, and shows them no badge', async () => {
    const { context, page } = await openPage(system);
    await logIn(page, ordinary.email, ordinary.password);
    await searchFor(page, pdTitle);
    const book = card(page, pdTitle);
    await book.getByText('For print-disabled readers only').waitFor();
    expect(await book.getByRole('button').count()).toBe(0);
    expect(await page.getByText('Print-disabled access', { exact: true }).count()).toBe(0);
    await context.close();
  });
});
