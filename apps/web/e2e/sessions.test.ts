// Revocable sessions in a real browser (issue 13 §2): "Log out everywhere" in one browser context ends the session of
// another context of the same patron, which then shows the patron logged out; the other context's own cookies,
// replayed, no longer work.
import { demoPatrons } from '@lending/archive';
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

const demo = demoPatrons().find((p) => p.email === 'patron@example.org')!;

let system: System;
useSystem((started) => (system = started));

describe.skipIf(!hasBrowser)('log out everywhere, in Chromium', () => {
  it('ends the session of another browser, which then shows the patron logged out', async () => {
    const laptop = await openPage(system);
    const phone = await openPage(system, { width: 390, height: 844 });
    await logIn(laptop.page, demo.email, demo.password);
    await logIn(phone.page, demo.email, demo.password, true);
    await phone.page.getByRole('banner').getByText(demo.screenname).waitFor();
    await screenshot(phone.page, 'phone-logout-buttons', { fullPage: false });
    const phoneCookies = await lendingCookies(phone.context);
    expect(phoneCookies.session).toBeDefined();

    await laptop.page.getByRole('button', { name: 'Log out everywhere' }).click();
    await expectScreen(laptop.page, 'Log in');
    await waitForStatus(laptop.page, 'You have logged out on every device.');
    expect(await lendingCookies(laptop.context)).toEqual({ session: undefined, s3: undefined });
    await screenshot(laptop.page, 'logged-out-everywhere');

    // The other browser: its next request finds the session revoked, and the SPA shows the login form.
    await phone.page.getByRole('link', { name: 'My loans' }).click();
    await expectScreen(phone.page, 'Log in');
    expect(await lendingCookies(phone.context)).toEqual({ session: undefined, s3: undefined });
    await phone.page.reload();
    await expectScreen(phone.page, 'Log in');
    await screenshot(phone.page, 'other-device-logged-out');

    // Its old cookies, put back, are refused by the server: a revoked session stays revoked.
    await phone.context.addCookies([phoneCookies.session!, phoneCookies.s3!]);
    await phone.page.reload();
    await expectScreen(phone.page, 'Log in');
    expect((await lendingCookies(phone.context)).session).toBeUndefined();

    await laptop.context.close();
    await phone.context.close();
  });
});
