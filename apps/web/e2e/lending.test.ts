// A patron in a real browser (Chromium via playwright-core) against the real server and the stand-in.
import { createLendingClient } from '@lending/api/client';
import { defaultFixture, legacyAccountSeeds, demoPatrons } from '@lending/archive';
import { seedLegacyAccounts } from '@lending/accounts';
import { cookieKeys, sealCookie } from '@lending/crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  APP_SECRET,
  borrowFirstAvailable,
  expectScreen,
  hasBrowser,
  lendingCookies,
  logIn,
  openPage,
  screenshot,
  useSystem,
  waitForAlert,
  waitForStatus,
} from './harness';
import type { System } from './harness';

const patrons = demoPatrons().filter((p) => !p.locked && p.verified && p.password);
function patron(email: string) {
  const found = patrons.find((p) => p.email === email);
  if (!found) throw new Error(`no demo patron ${email}`);
  return found;
}

let system: System;
useSystem((started) => (system = started));

/** Borrows the first book offering "Borrow" and waits until the catalogue shows it as the patron's. */
async function borrowOne(page: Page): Promise<string> {
  const title = await borrowFirstAvailable(page);
  await waitForStatus(page, `You borrowed “${title}”`);
  await page
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name: title, exact: true }) })
    .getByRole('button', { name: 'Return' })
    .waitFor();
  return title;
}

/** Nothing that looks like a crash: the app is on one of its screens and no raw error text shows. */
async function expectNoErrorPage(page: Page): Promise<void> {
  const h1 = await page.getByRole('heading', { level: 1 }).allTextContents();
  expect(h1).toHaveLength(1);
  expect(['Catalogue', 'Log in', 'My loans', 'Loan history']).toContain(h1[0]);
  const text = await page.locator('body').innerText();
  expect(text).not.toMatch(/Internal server error|INTERNAL_SERVER_ERROR|Unexpected token|stack/i);
}

describe.skipIf(!hasBrowser)('the patron SPA in Chromium', () => {
  it('logs in, keeps cookies from JavaScript, borrows and returns, survives a reload and logs out', async () => {
    const demo = patron('patron@example.org');
    const { context, page } = await openPage(system);

    // Validation and a wrong password first: messages next to the field, and in words.
    await page.goto('/');
    await expectScreen(page, 'Log in');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Enter your email address.').waitFor();
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Email').fill(demo.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('The email address or password you entered is incorrect').waitFor();
    await screenshot(page, 'login-error');

    await logIn(page, demo.email, demo.password);
    await page.getByRole('banner').getByText(demo.screenname).waitFor();
    await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();

    // HttpOnly: the page's JavaScript sees neither cookie, the browser holds both.
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).not.toMatch(/(^|;\s*)(session|s3)=/);
    const held = await lendingCookies(context);
    expect(held.session?.httpOnly).toBe(true);
    expect(held.s3?.httpOnly).toBe(true);
    expect(held.s3?.sameSite).toBe('Lax');

    const title = await borrowOne(page);
    await screenshot(page, 'catalogue-borrowed');

    await page.getByRole('link', { name: 'My loans' }).click();
    await expectScreen(page, 'My loans');
    const loan = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: title, exact: true }) });
    await loan.waitFor();

    // A reload keeps the session (and the screen: routes live in the URL hash).
    await page.reload();
    await expectScreen(page, 'My loans');
    await page.getByRole('banner').getByText(demo.screenname).waitFor();

    await loan.getByRole('button', { name: 'Return' }).click();
    await waitForStatus(page, `You returned “${title}”`);
    await page.getByText('You have no books on loan.').waitFor();
    await screenshot(page, 'loans-empty');

    await page.getByRole('link', { name: 'History' }).click();
    await expectScreen(page, 'Loan history');
    await page.getByRole('listitem').filter({ hasText: title }).first().waitFor();
    await screenshot(page, 'history');

    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expectScreen(page, 'Log in');
    await waitForStatus(page, 'You have logged out.');
    const after = await lendingCookies(context);
    expect(after.session).toBeUndefined();
    expect(after.s3).toBeUndefined();
    await page.reload();
    await expectScreen(page, 'Log in');
    await screenshot(page, 'logged-out');
    await context.close();
  });

  it('works by keyboard alone at phone width, with visible focus', async () => {
    const reader = patron('reader@example.org');
    const { context, page } = await openPage(system, { width: 375, height: 812 });
    await page.goto('/');
    await expectScreen(page, 'Log in');

    // Skip link first, then the form in order.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('login-email');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.type(reader.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(reader.password);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    expect(await page.getByLabel('Remember me').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await screenshot(page, 'phone-login-focus');
    await page.keyboard.press('Enter');
    await expectScreen(page, 'Catalogue');

    // Remember me: a persistent cookie (Max-Age), not a browser-session one: 30 days, renewed while in use.
    const { session } = await lendingCookies(context);
    expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    expect(session?.expires).toBeLessThan(Date.now() / 1000 + 31 * 24 * 3600);

    // No sideways scrolling at 375px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);

    // Borrow with the keyboard: focus the first Borrow button and press Enter.
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('button', { name: 'Borrow', exact: true }) })
      .first();
    const title = (await card.getByRole('heading', { level: 2 }).textContent()) ?? '';
    await card.getByRole('button', { name: 'Borrow', exact: true }).focus();
    await page.keyboard.press('Enter');
    await waitForStatus(page, `You borrowed “${title}”`);
    await screenshot(page, 'phone-catalogue', { fullPage: false });

    // Search, and its empty state.
    await page.getByLabel('Search by title or author').fill('zzzz-no-such-book');
    await page.keyboard.press('Enter');
    await page.getByText('No books match “zzzz-no-such-book”.').waitFor();
    await screenshot(page, 'phone-search-empty', { fullPage: false });
    await page.getByLabel('Search by title or author').fill('');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Return' }).first().waitFor();

    await page.getByRole('link', { name: 'My loans' }).focus();
    await page.keyboard.press('Enter');
    await expectScreen(page, 'My loans');
    // The new screen's heading takes focus, so a screen reader announces where we are.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await page.getByRole('button', { name: 'Return' }).first().focus();
    await page.keyboard.press('Enter');
    await waitForStatus(page, `You returned “${title}”`);
    await screenshot(page, 'phone-loans');
    await context.close();
  });

  it('lets a legacy patron (session from before the change, no s3 cookie) borrow through the store', async () => {
    const seeds = legacyAccountSeeds();
    await seedLegacyAccounts(system.store, seeds);
    const legacy = seeds[0]!;
    const { context, page } = await openPage(system);
    // A live session of the account (as a login records it), its cookie without an s3 cookie beside it.
    const now = Math.floor(Date.now() / 1000);
    await system.store.addSession(
      legacy.username,
      { id: 'e2e-legacy', expiresAt: now + 3600 },
      { now, max: 20 },
    );
    const session = sealCookie(cookieKeys(APP_SECRET), {
      pur: 'session',
      sub: legacy.username,
      rem: false,
      sid: 'e2e-legacy',
      iat: now,
    });
    await context.addCookies([
      { name: 'session', value: session, url: system.baseUrl, httpOnly: true, secure: true, sameSite: 'Lax' },
    ]);
    expect((await lendingCookies(context)).s3).toBeUndefined();

    // Hold the catalogue back a moment to see its loading state.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/trpc/books.list*', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto('/');
    await expectScreen(page, 'Catalogue');
    await page.getByText('Loading the catalogue…').waitFor();
    await screenshot(page, 'catalogue-loading');
    release();
    await page.getByRole('banner').getByText(legacy.displayName).waitFor();
    const title = await borrowOne(page);
    expect(title).not.toBe('');
    // The server moved the keys into an s3 cookie, so this session stops needing the store.
    const { s3 } = await lendingCookies(context);
    expect(s3?.httpOnly).toBe(true);
    await screenshot(page, 'legacy-borrowed');
    await context.close();
  });

  it('survives a tampered s3 cookie: the patron borrows anyway or is asked to log in again', async () => {
    const scholar = patron('scholar@example.org');
    const { context, page } = await openPage(system);
    await logIn(page, scholar.email, scholar.password);
    const { s3 } = await lendingCookies(context);
    expect(s3).toBeDefined();
    const value = s3!.value;
    const middle = Math.floor(value.length / 2);
    const flipped = value.slice(0, middle) + (value[middle] === 'A' ? 'B' : 'A') + value.slice(middle + 1);
    await context.addCookies([{ ...s3!, value: flipped }]);

    const title = await borrowFirstAvailable(page);
    const outcome = await Promise.race([
      waitForStatus(page, `You borrowed “${title}”`).then(() => 'borrowed' as const),
      page
        .getByText('Please log in again to borrow.')
        .waitFor()
        .then(() => 'relogin' as const),
    ]);
    await screenshot(page, `tampered-s3-${outcome}`);
    await expectNoErrorPage(page);
    if (outcome === 'relogin') {
      await expectScreen(page, 'Log in');
      // The server ended that session; logging in again gives fresh cookies and borrowing works.
      expect((await lendingCookies(context)).session).toBeUndefined();
      await page.getByLabel('Email').fill(scholar.email);
      await page.getByLabel('Password').fill(scholar.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expectScreen(page, 'Catalogue');
      await borrowOne(page);
    }
    await context.close();
  });

  it('says so when the lending limit is reached (five loans, the sixth refused) and when offline', async () => {
    const limited = patron('patron@example.org');
    const { context, page } = await openPage(system);
    await logIn(page, limited.email, limited.password);
    for (let i = 0; i < 5; i++) await borrowOne(page);
    await borrowFirstAvailable(page);
    const message = await waitForAlert(page, 'You have reached the lending limit');
    expect(message).toMatch(/You have reached the lending limit/);
    await expectNoErrorPage(page);
    await screenshot(page, 'lending-limit', { fullPage: false });

    await page.getByRole('link', { name: 'My loans' }).click();
    await expectScreen(page, 'My loans');
    await page.getByText('You have 5 books on loan.').waitFor();

    // Offline: a banner, and an action fails at once with a sentence instead of hanging.
    await context.setOffline(true);
    await page.getByText('You are offline.').first().waitFor();
    await page.getByRole('button', { name: 'Return' }).first().click();
    await waitForAlert(page, /offline|couldn't reach/);
    await screenshot(page, 'offline', { fullPage: false });
    await context.setOffline(false);
    await context.close();
  });

  it('offers the waitlist when every copy is out, and lets the patron leave it', async () => {
    // Another patron takes the only copy of a one-copy book, through the typed client.
    const other =
      demoPatrons().find((p) => p.email === 'old-timer@example.org') ?? patron('scholar@example.org');
    const api = createLendingClient({ url: `${system.baseUrl}/trpc` });
    await api.auth.loginWithKeys.mutate({ access: other.access, secret: other.secret });
    // A one-copy book (the stand-in's fixture says which) on the catalogue's first page, its copy free.
    const oneCopy = new Set(
      defaultFixture({ catalogue: 'full' })
        .books.filter((b) => b.copies === 1)
        .map((b) => b.identifier),
    );
    const { books } = await api.books.list.query();
    const single = books.find((b) => oneCopy.has(b.identifier) && b.availability.borrow);
    expect(single, 'a one-copy book with its copy free').toBeDefined();
    await api.loans.borrow.mutate({ identifier: single!.identifier });

    const reader = patron('reader@example.org');
    const { context, page } = await openPage(system);
    await logIn(page, reader.email, reader.password);
    const card = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name: single!.title, exact: true }) });
    await card.getByText('All copies are on loan').waitFor();
    expect(await card.getByRole('button', { name: 'Borrow', exact: true }).count()).toBe(0);
    await card.getByRole('button', { name: 'Join waitlist' }).click();
    await waitForStatus(page, `You joined the waitlist for “${single!.title}”`);
    await card.getByText('You are on the waitlist').waitFor();
    await screenshot(page, 'waitlist-joined', { fullPage: false });
    await card.getByRole('button', { name: 'Leave waitlist' }).click();
    await waitForStatus(page, `You left the waitlist for “${single!.title}”`);
    await card.getByRole('button', { name: 'Join waitlist' }).waitFor();
    await context.close();
    await api.loans.return.mutate({ identifier: single!.identifier });
  });
});

describe.skipIf(!hasBrowser)('the catalogue, page by page', () => {
  it('pages through the whole catalogue with Next and Previous', async () => {
    const api = createLendingClient({ url: `${system.baseUrl}/trpc` });
    const first = await api.books.list.query();
    const second = await api.books.list.query({ page: 2 });
    expect(first.pages).toBeGreaterThan(5); // the full catalogue, not only the first 100 books
    const { context, page } = await openPage(system);
    const reader = patron('scholar@example.org');
    await logIn(page, reader.email, reader.password);
    const heading = (title: string) => page.getByRole('heading', { level: 2, name: title, exact: true });
    await heading(first.books[0]!.title).waitFor();
    await page.getByText(`Page 1 of ${first.pages}`, { exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Previous page' }).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(`Page 2 of ${first.pages}`, { exact: true }).waitFor();
    await heading(second.books[0]!.title).waitFor();
    expect(await heading(first.books[0]!.title).count()).toBe(0);
    await screenshot(page, 'catalogue-page-2', { fullPage: false });

    await page.getByRole('button', { name: 'Previous page' }).click();
    await heading(first.books[0]!.title).waitFor();
    await page.getByText(`Page 1 of ${first.pages}`, { exact: true }).waitFor();
    await context.close();
  });
});
