// The API keys page: issue a key and see its secret once (with Copy), find it by prefix after a
// reload, see it in the Users page's expanded row, revoke it after confirming; and the list with
// JavaScript off.
import { expect, test } from '@playwright/test';
import { OWNER, asOwner, jsEnabled, open } from './helpers';

const KEYS = '/dashboard/keys';

test('a key is shown once, listed by its prefix, and revoked after confirmation', async ({ page, context }) => {
  test.skip(!jsEnabled(), 'the Create key dialog needs JavaScript');
  await asOwner(page, KEYS);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `ci-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByText('Copy this key now.')).toBeVisible();
  const secret = await dialog.getByLabel('API key').inputValue();
  expect(secret).toMatch(/^tg_[0-9A-Za-z]{43}$/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await dialog.getByRole('button', { name: 'Copy' }).click();
  await expect(dialog.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await dialog.getByRole('button', { name: 'Done' }).click();

  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText(secret.slice(0, 11));
  await page.reload();
  await expect(row).toContainText('active');
  expect(await page.content()).not.toContain(secret);

  // The Users page's expanded row lists the same key.
  await open(page, '/dashboard/configuration/users');
  await page.getByRole('row').filter({ hasText: OWNER.email }).getByRole('button', { name: /Details for/ }).click();
  await expect(page.getByRole('cell', { name, exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Manage these keys' }).click();
  await expect(page.getByText("Showing one person's keys.")).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText(OWNER.email);

  await open(page, KEYS);
  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Revoke key ‘${name}’?` });
  await expect(confirm).toContainText('Requests with this key are refused at once.');
  await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('button', { name: /Revoke/ })).toHaveCount(0);

  // All keys, filtered to revoked ones, keeps it; the filters live in the URL.
  await page.goto(`${KEYS}?scope=all&status=revoked`);
  await expect(page.getByRole('link', { name: 'All keys' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText(OWNER.email);
});

test('the keys list and its filters work from the address alone', async ({ page }) => {
  await asOwner(page, `${KEYS}?scope=all&status=expired`);
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible();
  await expect(page.getByLabel('Status')).toHaveValue('expired');
  await expect(page.getByText('No keys match these filters.')).toBeVisible();
  const form = page.getByRole('search');
  await expect(form).toHaveAttribute('method', /get/i);
  await page.getByLabel('Status').selectOption('revoked');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=revoked/);
  await expect(page).toHaveURL(/scope=all/);
});

test('the key search runs as you type and a status applies as soon as it is picked', async ({ page }) => {
  test.skip(!jsEnabled(), 'filtering as you type needs JavaScript');
  await asOwner(page, `${KEYS}?scope=all`);
  await page.getByLabel('Status').selectOption('expired');
  await expect(page).toHaveURL(/status=expired/);
  await expect(page).toHaveURL(/scope=all/);
  await expect(page.getByText('No keys match these filters.')).toBeVisible();
  const search = page.getByLabel('Search keys');
  await search.pressSequentially('zz-none', { delay: 30 });
  await expect(page).toHaveURL(/q=zz-none/);
  await expect(page).toHaveURL(/status=expired/);
  await expect(search).toBeFocused();
});

test('a key gets per-minute limits when created, and its Limits dialog refuses bad ones in place', async ({ page }) => {
  test.skip(!jsEnabled(), 'the Create key and Limits dialogs need JavaScript');
  await asOwner(page, KEYS);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `limited-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText('Limits (optional)').click();
  await dialog.getByLabel('Requests per minute (optional)').fill('60');
  await dialog.getByLabel('Tokens per minute (optional)').fill('100,000');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByText('Copy this key now.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Done' }).click();

  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('60 req/min · 100,000 tok/min');

  // A negative number is refused next to its field, and nothing changes.
  await row.getByRole('button', { name: `Limits of ${name}` }).click();
  const limits = page.getByRole('dialog', { name: `Limits of ‘${name}’` });
  await expect(limits.getByLabel('Requests per minute (optional)')).toHaveValue('60');
  await limits.getByLabel('Requests per minute (optional)').fill('-5');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await expect(limits.getByText('Enter a whole number from 1 to 1,000,000')).toBeVisible();
  await expect(limits.getByLabel('Requests per minute (optional)')).toHaveAttribute('aria-invalid', 'true');
  await limits.getByLabel('Requests per minute (optional)').fill('30');
  await limits.getByLabel('Tokens per minute (optional)').fill('');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await expect(limits).toBeHidden();
  await expect(row).toContainText('30 req/min');
  await expect(row).not.toContainText('tok/min');
  await page.reload();
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('30 req/min');
});

test('a key budget set in the dialog turns its bar yellow, then red, then refuses with the key named', async ({ page }) => {
  test.skip(!jsEnabled(), 'the Create key and Limits dialogs need JavaScript');
  await asOwner(page, KEYS);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `budgeted-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText('Limits (optional)').click();
  // Bad input is refused next to the field, and the key is not created.
  await dialog.getByLabel('Monthly budget in $ (optional)').fill('-3');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByLabel('Monthly budget in $ (optional)')).toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Monthly budget in $ (optional)').fill('10');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = await dialog.getByLabel('API key').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();

  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('$10.00/month');
  const chat = () =>
    page.request.post('/v1/chat/completions', {
      headers: { authorization: `Bearer ${secret}` },
      data: { model: 'e2e-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
    });
  // Each request costs $1.10 at the stub's usage: seven are 77 %, yellow.
  for (let i = 0; i < 7; i++) expect((await chat()).status()).toBe(200);
  // Settlements are written behind the answers (within a writer round): reload until in.
  const reloadUntil = (text: string) =>
    expect(async () => {
      await page.reload();
      await expect(row).toContainText(text, { timeout: 500 });
    }).toPass({ timeout: 10_000 });
  const bar = row.locator('.budget-track');
  await reloadUntil('$7.70 of $10.00');
  await expect(bar).toHaveClass(/band-yellow/);
  // Two more: 99 %, red; the next cannot fit its worst case and is refused, naming the key.
  for (let i = 0; i < 2; i++) expect((await chat()).status()).toBe(200);
  await reloadUntil('$9.90 of $10.00');
  await expect(bar).toHaveClass(/band-red/);
  const refused = await chat();
  expect(refused.status()).toBe(402);
  const error = (await refused.json()).error;
  expect(error.code).toBe('budget_exceeded');
  expect(error.limit).toBe('key');
  expect(error.key).toBe(name);
  // $0.10 is left, less than this request's worst case: the message says so, and how to fit.
  expect(error.message).toContain(
    `API key ‘${name}’ has $0.10 left of its monthly budget of $10.00 (spent $9.90 this month); ` +
      'this request could cost up to $0.93. Lower max_tokens or n to fit.',
  );
  expect(error.request_max_usd).toBeGreaterThan(0.1);

  // The Limits dialog shows the budget; raised, the key works again.
  await row.getByRole('button', { name: `Limits of ${name}` }).click();
  const limits = page.getByRole('dialog', { name: `Limits of ‘${name}’` });
  await expect(limits.getByLabel('Monthly budget in $ (optional)')).toHaveValue('10.00');
  await limits.getByLabel('Monthly budget in $ (optional)').fill('20');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await expect(limits).toBeHidden();
  await expect(row).toContainText('$9.90 of $20.00');
  await expect(bar).toHaveClass(/band-green/);
  expect((await chat()).status()).toBe(200);
});

test('when the models cannot be loaded, the Limits dialog says so and cannot drop the key’s models', async ({ page }) => {
  test.skip(!jsEnabled(), 'the Create key and Limits dialogs need JavaScript');
  await asOwner(page, KEYS);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `one-model-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText('Limits (optional)').click();
  await dialog.getByLabel('e2e-mini').check();
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByText('Copy this key now.')).toBeVisible();
  await dialog.getByRole('button', { name: 'Done' }).click();
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('e2e-mini only');

  // The gateway's model list fails to load: saving would post no models, which means "all".
  await page.route('**/api/model_options*', (route) =>
    route.fulfill({ status: 500, contentType: 'text/plain', body: 'unavailable' }),
  );
  await row.getByRole('button', { name: `Limits of ${name}` }).click();
  const limits = page.getByRole('dialog', { name: `Limits of ‘${name}’` });
  await expect(limits.getByRole('alert')).toContainText('could not be loaded');
  await expect(limits.getByRole('button', { name: 'Save limits' })).toBeDisabled();
  await page.keyboard.press('Escape');
  await page.unroute('**/api/model_options*');
  await page.reload();
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('e2e-mini only');
});
