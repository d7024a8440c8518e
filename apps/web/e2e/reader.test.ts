// Reading a borrowed book and seeing covers, in Chromium against the real server and the stand-in: Read opens the
// stand-in's BookReader through a fresh auth link; after the return, Read is gone and the old link is refused.
// Covers come from the image host the server names (another origin, allowed by its CSP), with their boxes
// reserved and a placeholder when the image service fails.
import { demoPatrons } from '@lending/archive';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  borrowFirstAvailable,
  expectScreen,
  hasBrowser,
  logIn,
  openPage,
  screenshot,
  useSystem,
  waitForStatus,
} from './harness';
import type { System } from './harness';

const reader = demoPatrons().find((p) => p.email === 'reader@example.org')!;
const scholar = demoPatrons().find((p) => p.email === 'scholar@example.org')!;

let system: System;
useSystem((started) => (system = started));
afterEach(() => {
  if (hasBrowser) system.archive.state.fault = null;
});

/** Console messages about refused resources (a CSP that blocks the covers says so here). */
function cspReports(page: Page): string[] {
  const reports: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to load/i.test(message.text())) reports.push(message.text());
  });
  return reports;
}

function card(page: Page, title: string) {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

/** Size of every `.cover` on the page and whether its picture has arrived. */
function coverBoxes(page: Page) {
  return page.locator('.cover').evaluateAll((nodes) =>
    nodes.map((node) => {
      const box = node.getBoundingClientRect();
      const img = node instanceof HTMLImageElement ? node : null;
      return {
        tag: node.tagName.toLowerCase(),
        width: box.width,
        height: box.height,
        loaded: img ? img.complete && img.naturalWidth > 0 : false,
        loading: img?.loading ?? null,
        alt: img?.alt ?? node.getAttribute('aria-label'),
        src: img?.src ?? null,
      };
    }),
  );
}

describe.skipIf(!hasBrowser)('reading a borrowed book', () => {
  it('borrow → Read opens the reader with the title; return → Read gone and the old link refused', async () => {
    const { context, page } = await openPage(system);
    const reports = cspReports(page);
    await logIn(page, reader.email, reader.password);

    const title = await borrowFirstAvailable(page);
    await waitForStatus(page, `You borrowed “${title}”`);
    // Straight after borrowing: Read on the book's card.
    await card(page, title).getByRole('button', { name: 'Read' }).click();
    await page.waitForURL(/\/bookreader\/BookReaderAuth\.php\?/);
    const link = page.url();
    expect(new URL(link).origin).toBe(system.archive.url);
    await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
    expect(await page.getByRole('region', { name: /^Page \d+$/ }).count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'reader-open');

    // Back in the SPA, the loan has Read too, then Return: Read is gone, and the link made before is refused.
    await page.goto('/#/loans');
    await expectScreen(page, 'My loans');
    const loan = card(page, title);
    await loan.getByRole('button', { name: 'Read' }).waitFor();
    await loan.getByRole('button', { name: 'Return' }).click();
    await waitForStatus(page, `You returned “${title}”`);
    await page.getByText('You have no books on loan.').waitFor();
    await page.goto('/#/');
    await expectScreen(page, 'Catalogue');
    await card(page, title).getByRole('button', { name: 'Borrow' }).waitFor();
    expect(await page.getByRole('button', { name: 'Read' }).count()).toBe(0);

    const refused = await page.goto(link);
    expect(refused?.status()).toBe(403);
    await page.getByRole('heading', { level: 1, name: 'You no longer have this book on loan' }).waitFor();
    await screenshot(page, 'reader-refused');
    expect(reports).toEqual([]);
    await context.close();
  });

  it('says so when the loan ended elsewhere before Read was pressed, and the card drops Read', async () => {
    const { context, page } = await openPage(system);
    await logIn(page, scholar.email, scholar.password);
    const title = await borrowFirstAvailable(page);
    await waitForStatus(page, `You borrowed “${title}”`);
    const identifier = system.archive.state
      .findLoans({ email: scholar.email })
      .map((loan) => loan.identifier)[0]!;
    // The loan ends at archive.org (returned from another device) while this page still shows it.
    const keys = { access: scholar.access, secret: scholar.secret };
    const form = new URLSearchParams(keys);
    const returned = await fetch(
      `${system.archive.url}/services/loans/loan/?identifier=${identifier}&action=return_loan`,
      { method: 'POST', body: form },
    );
    expect(returned.status).toBe(200);
    await card(page, title).getByRole('button', { name: 'Read' }).click();
    // Said in the page's status line (the refreshed card has no Read button left to say it beside).
    await page
      .getByRole('status')
      .filter({ hasText: 'You do not have this book on loan any more' })
      .waitFor();
    await card(page, title).getByRole('button', { name: 'Read' }).waitFor({ state: 'detached' });
    expect(page.url()).not.toMatch(/BookReaderAuth/);
    await context.close();
  });
});

describe.skipIf(!hasBrowser)('covers', () => {
  it('come from the image host, lazily, with their size reserved and a text alternative', async () => {
    const { context, page } = await openPage(system);
    const reports = cspReports(page);
    await logIn(page, reader.email, reader.password);
    await page.locator('img.cover').first().waitFor();
    // The first cards' pictures arrive from the stand-in (another origin than the page).
    await page.waitForFunction(() => {
      const first = document.querySelector<HTMLImageElement>('img.cover');
      return first !== null && first.complete && first.naturalWidth > 0;
    });
    const boxes = await coverBoxes(page);
    expect(boxes.length).toBeGreaterThan(10);
    for (const box of boxes) {
      expect(box).toMatchObject({ tag: 'img', width: 60, height: 90, loading: 'lazy' });
      expect(box.alt).toMatch(/^Cover of “.+”$/);
      expect(box.src?.startsWith(`${system.archive.url}/services/img/`)).toBe(true);
    }
    expect(boxes[0]!.loaded).toBe(true);
    expect(reports).toEqual([]);

    // History rows (the first test borrowed and returned a book as this patron) show small covers too.
    await page.goto('/#/history');
    await expectScreen(page, 'Loan history');
    await page.locator('.history img.cover').first().waitFor();
    for (const box of await coverBoxes(page)) {
      expect(box).toMatchObject({ tag: 'img', width: 30, height: 45, loading: 'lazy' });
    }
    await screenshot(page, 'history-covers');
    await context.close();
  });

  it('keep their boxes while the image service hangs, and fall back to a placeholder when it fails', async () => {
    system.archive.state.fault = { kind: 'hang', path: '/services/img/' };
    const hanging = await openPage(system);
    await logIn(hanging.page, reader.email, reader.password);
    await hanging.page.locator('img.cover').first().waitFor();
    const waiting = await coverBoxes(hanging.page);
    expect(waiting.length).toBeGreaterThan(0);
    for (const box of waiting) expect(box).toMatchObject({ width: 60, height: 90, loaded: false });
    await hanging.context.close();

    system.archive.state.fault = { kind: 'status', status: 404, path: '/services/img/' };
    const { context, page } = await openPage(system);
    await logIn(page, reader.email, reader.password);
    const placeholder = page.getByRole('img', { name: /^No cover for “.+”$/ }).first();
    await placeholder.waitFor();
    expect(await placeholder.boundingBox()).toMatchObject({ width: 60, height: 90 });
    await screenshot(page, 'covers-missing');
    await context.close();
  });
});
