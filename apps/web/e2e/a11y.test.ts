// An axe-core audit (WCAG 2.0/2.1/2.2, levels A and AA) of every screen in Chromium: login, catalogue (with covers),
// loans (with Read), history, and the stand-in's reader page and its refusal page. No serious or critical violation
// may remain. axe runs inside the page as served, with the server's Content-Security-Policy in force.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { demoPatrons } from '@lending/archive';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  borrowFirstAvailable,
  expectScreen,
  hasBrowser,
  logIn,
  openPage,
  useSystem,
  waitForStatus,
} from './harness';
import type { System } from './harness';

const patron = demoPatrons().find((p) => p.email === 'patron@example.org')!;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

let axeSource = '';
let system: System;
useSystem((started) => (system = started));
beforeAll(async () => {
  if (hasBrowser)
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
});

/** Runs axe on the page as it is now; returns every violation (the test keeps the serious and critical). */
async function audit(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol, not as an inline <script>, which the page's CSP forbids.
  await page.evaluate(axeSource);
  return page.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run: (...args: unknown[]) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    }
    const results = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)),
    }));
  }, TAGS);
}

const severe = (violations: Violation[]) =>
  violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');

async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await audit(page);
  if (violations.length > 0) console.log(`axe on ${screen}:`, JSON.stringify(violations, null, 1));
  expect(severe(violations), screen).toEqual([]);
}

describe.skipIf(!hasBrowser)('axe-core audit (WCAG 2.x A/AA)', () => {
  it('finds no serious or critical violation on any screen', async () => {
    const { context, page } = await openPage(system);

    await page.goto('/');
    await expectScreen(page, 'Log in');
    await expectAccessible(page, 'login');

    await logIn(page, patron.email, patron.password);
    await page.locator('img.cover').first().waitFor();
    await expectAccessible(page, 'catalogue');

    const title = await borrowFirstAvailable(page);
    await waitForStatus(page, `You borrowed “${title}”`);
    await expectAccessible(page, 'catalogue after a borrow');

    await page.goto('/#/loans');
    await expectScreen(page, 'My loans');
    await page.getByRole('button', { name: 'Read' }).waitFor();
    await expectAccessible(page, 'loans');

    await page.goto('/#/history');
    await expectScreen(page, 'Loan history');
    await page.locator('.history li').first().waitFor();
    await expectAccessible(page, 'history');

    await page.goto('/#/loans');
    await page.getByRole('button', { name: 'Read' }).click();
    await page.waitForURL(/BookReaderAuth\.php/);
    await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
    await expectAccessible(page, 'reader (stand-in)');
    const link = page.url();

    await page.goto('/#/loans');
    await page.getByRole('button', { name: 'Return' }).click();
    await waitForStatus(page, `You returned “${title}”`);
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'You no longer have this book on loan' }).waitFor();
    await expectAccessible(page, 'reader refusal (stand-in)');
    await context.close();
  });

  it('counts a real violation (the audit can fail)', async () => {
    const { context, page } = await openPage(system);
    await page.goto('/');
    await expectScreen(page, 'Log in');
    // An image without a text alternative and low-contrast text: what the audit exists to catch.
    await page.evaluate(() => {
      const img = document.createElement('img');
      img.src = '/missing.png';
      img.width = 10;
      img.height = 10;
      const faint = document.createElement('p');
      faint.textContent = 'Barely readable';
      faint.style.color = '#ddd';
      faint.style.background = '#fff';
      document.querySelector('main')?.append(img, faint);
    });
    const ids = severe(await audit(page)).map((v) => v.id);
    expect(ids).toEqual(expect.arrayContaining(['image-alt', 'color-contrast']));
    await context.close();
  });
});
