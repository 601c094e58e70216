// The browser bundle as a visitor's browser fetches it: the pages used every day come with the
// main bundle; a configuration page's pieces are fetched only when someone opens it (named in
// its <head> when it is opened directly, so they download beside the main bundle); and every
// piece may be cached for good.
import { expect, test, type Page, type Response } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

/** Records every WebAssembly file the page fetches, with its caching header. */
function wasmFetches(page: Page): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>();
  page.on('response', (res: Response) => {
    const path = new URL(res.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm') && res.ok()) {
      seen.set(path, res.headers()['cache-control']);
    }
  });
  return seen;
}

test('the daily pages load one bundle; a configuration page loads its own pieces, when opened', async ({
  page,
}) => {
  test.skip(!jsEnabled(), 'the bundle loads only with JavaScript');
  const fetched = wasmFetches(page);
  await asOwner(page, '/dashboard/configuration/users');
  // Sign-in and the Users page are in the main bundle: one WebAssembly file.
  expect([...fetched.keys()]).toHaveLength(1);
  const main = [...fetched.keys()][0];
  // The hydrated page works: the invite dialog opens and closes.
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // Billing's code is not in it: following the link fetches Billing's pieces, then shows it.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('link', { name: 'Billing' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  expect(fetched.size, 'pieces fetched for Billing').toBeGreaterThan(1);

  // Back to Users and to Billing again: everything needed is here, nothing is fetched again.
  const before = fetched.size;
  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('button', { name: 'Invite User' })).toBeVisible();
  await nav.getByRole('link', { name: 'Billing' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  expect(fetched.size).toBe(before);

  // Opened directly, a configuration page names its pieces in its <head>, so the browser fetches
  // them beside the main bundle rather than after it.
  fetched.clear();
  await page.goto('/dashboard/configuration/sso');
  await hydrated(page);
  const preloaded = await page
    .locator('link[rel="preload"][href$=".wasm"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  expect(preloaded).toContain(main);
  expect(preloaded.length).toBeGreaterThan(1);
  for (const path of preloaded) expect(fetched.has(path), `${path} was fetched`).toBe(true);
  for (const [path, caching] of fetched) {
    expect(caching, path).toBe('public, max-age=31536000, immutable');
  }
  await expect(page.getByRole('heading', { level: 1, name: 'Single sign-on' })).toBeVisible();
});

test('while a page not yet loaded is fetched, a progress bar shows the click was taken', async ({ page }) => {
  test.skip(!jsEnabled(), 'without JavaScript the browser shows its own loading state');
  await asOwner(page, '/dashboard/configuration/users');
  // Hold Billing's own piece until the bar has been seen.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/pkg\/split___billing_view_[^/]*\.wasm$/, async (route) => {
    await held;
    await route.continue();
  });
  const bar = page.getByRole('progressbar', { name: 'Loading the page' });
  await expect(bar).toHaveCount(0);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Billing' }).click();
  await expect(bar).toBeVisible();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  release();
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  await expect(bar).toHaveCount(0);
});
