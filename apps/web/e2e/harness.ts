// The whole system for a browser: the archive.org stand-in and the real server (SQLite in a temp folder,
// serving a fresh build of the SPA) on port 0, and Chromium through playwright-core.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AccountStore } from '@lending/accounts';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { createApp, loadEnv } from '@lending/server';
import type { LendingApp } from '@lending/server';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';

export const APP_SECRET = 'lending-e2e-secret-0123456789abcdefghijklmnop';
export const SCREENSHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));

export interface System {
  /** http://localhost:<port>: a secure context, so the server's Secure cookies stick over plain http. */
  baseUrl: string;
  archive: RunningArchive;
  store: AccountStore;
  browser: Browser;
  close(): Promise<void>;
}

/** `archive`: options for the stand-in (e.g. its `fixture`). */
export async function startSystem(
  options: { archive?: Omit<Parameters<typeof startArchive>[0], 'port'> } = {},
): Promise<System> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lending-e2e-'));
  const archive = await startArchive({ ...options.archive, port: 0 });
  let app: LendingApp | null = null;
  let browser: Browser | null = null;
  try {
    const config = await loadEnv({
      NODE_ENV: 'test',
      APP_SECRET,
      DATABASE_URL: `sqlite:${join(dataDir, 'lending.db')}`,
      ARCHIVE_URL: archive.url,
      LOG_LEVEL: 'silent',
      WEB_DIST: inject('webDist'),
    });
    app = createApp(config);
    const listening = await app.listen(0, '127.0.0.1');
    browser = await chromium.launch({
      executablePath: inject('chromiumPath'),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
    const running = { app, browser };
    return {
      baseUrl: `http://localhost:${listening.port}`,
      archive,
      store: await app.store(),
      browser,
      async close() {
        await running.browser.close();
        await running.app.close();
        await archive.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await app?.close();
    await archive.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Uncaught errors from every page opened by openPage; tests assert it stays empty. */
export const pageErrors: string[] = [];

// Without Chromium (and without REQUIRE_CHROMIUM=1) global-setup printed why and provided no browser.
export const hasBrowser = inject('chromiumPath') !== '';

/**
 * The system of one test file: started before its tests when there is a browser (and handed to `use`), closed
 * after them; after each test, no page may have thrown.
 */
export function useSystem(use: (system: System) => void, options?: Parameters<typeof startSystem>[0]): void {
  let started: System | undefined;
  beforeAll(async () => {
    if (!hasBrowser) return;
    started = await startSystem(options);
    use(started);
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });
}

export async function openPage(
  system: System,
  options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await system.browser.newContext({
    baseURL: system.baseUrl,
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  // A script error in the page is a bug even when the test's steps happen to pass.
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return { context, page };
}

export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? true });
}

/** Waits until the screen's one h1 says `title`. */
export async function expectScreen(page: Page, title: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
}

export async function logIn(page: Page, email: string, password: string, remember = false): Promise<void> {
  await page.goto('/');
  await expectScreen(page, 'Log in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (remember) await page.getByLabel('Remember me').check();
  await page.getByRole('button', { name: 'Log in' }).click();
  await expectScreen(page, 'Catalogue');
}

/** Session and s3 cookies as the browser holds them (HttpOnly ones included). */
export async function lendingCookies(context: BrowserContext) {
  const cookies = await context.cookies();
  return {
    session: cookies.find((c) => c.name === 'session'),
    s3: cookies.find((c) => c.name === 's3'),
  };
}

/** Text the page's status line (the aria-live region) shows. */
export async function waitForStatus(page: Page, text: string | RegExp): Promise<string> {
  const status = page.getByRole('status').filter({ hasText: text });
  await status.waitFor();
  return (await status.textContent()) ?? '';
}

/** Text of an alert (an action's failure, shown on the book) once it appears. */
export async function waitForAlert(page: Page, text: string | RegExp): Promise<string> {
  const alert = page.getByRole('alert').filter({ hasText: text });
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

/** Borrows the first book offering "Borrow"; returns its title. */
export async function borrowFirstAvailable(page: Page): Promise<string> {
  const card = page
    .getByRole('listitem')
    .filter({ has: page.getByRole('button', { name: 'Borrow', exact: true }) })
    .first();
  const title = (await card.getByRole('heading', { level: 2 }).textContent()) ?? '';
  await card.getByRole('button', { name: 'Borrow', exact: true }).click();
  return title;
}
