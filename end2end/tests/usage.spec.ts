// The Usage page (/dashboard): what a key spent and why it was refused show up in the table,
// the charts and the refusals list; the range and grouping live in the URL and work with
// JavaScript off; the export is the table.
import { expect, test } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

test('a key’s spend and its refusal show on the Usage page, with the reason the client got', async ({ page }) => {
  test.skip(!jsEnabled(), 'the Create key dialog needs JavaScript');
  await asOwner(page, '/dashboard/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `usage-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText('Limits (optional)').click();
  await dialog.getByLabel('Monthly budget in $ (optional)').fill('2');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = await dialog.getByLabel('API key').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();
  const chat = () =>
    page.request.post('/v1/chat/completions', {
      headers: { authorization: `Bearer ${secret}` },
      data: { model: 'e2e-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
    });
  // $1.10 a request: the first fits a $2 budget, the second does not.
  expect((await chat()).status()).toBe(200);
  expect((await chat()).status()).toBe(402);

  await page.getByRole('link', { name: 'Usage' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'API key' }).click();
  await expect(page).toHaveURL(/group=key/);
  const row = page.getByRole('row').filter({ hasText: name }).first();
  await expect(row).toContainText('$1.10');
  // Refusals are counted behind the answer (written at least every 250 ms): reload until in.
  await expect(async () => {
    await page.reload();
    await expect(row.getByRole('cell').nth(4)).toHaveText('1', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await hydrated(page);

  const refusals = page.getByRole('region', { name: 'Why requests were refused' });
  const refusal = refusals.getByRole('row').filter({ hasText: name });
  await expect(refusal).toContainText('Key budget');
  await expect(refusal).toContainText(`API key ‘${name}’ has reached its monthly budget of $2.00.`);

  // The charts are images with their figures; pointing at a day reads it out.
  const spend = page.getByRole('img', { name: 'Spend per day' });
  await expect(spend).toBeVisible();
  const readout = page.locator('.chart').filter({ has: spend }).locator('.chart-readout');
  await expect(readout).toHaveText('Point at a day for its figures.');
  await spend.locator('.chart-hit').last().hover();
  await expect(readout).toContainText(/: \$\d/);
  await expect(page.getByRole('img', { name: 'Refusals per day' })).toBeVisible();

  // Sorting by a column is a link; the export downloads what the table shows.
  await page.getByRole('link', { name: 'Requests' }).click();
  await expect(page).toHaveURL(/sort=requests/);
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^tollgate-usage-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = await (await file.createReadStream()).toArray();
  const text = Buffer.concat(csv).toString('utf8');
  expect(text.split('\r\n')[0]).toBe('"key","spend_usd","requests","tokens_in","tokens_out","refusals","share_percent"');
  expect(text).toContain(`"${name} (${secret.slice(0, 11)}…)","1.10","1"`);
});

test('the range and grouping work from links alone', async ({ page }) => {
  await asOwner(page, '/dashboard');
  const ranges = page.getByRole('navigation', { name: 'Time range' });
  await expect(ranges.getByRole('link', { name: 'This month' })).toHaveAttribute('aria-current', 'page');
  await ranges.getByRole('link', { name: 'Last 7 days' }).click();
  await expect(page).toHaveURL(/range=7d/);
  await expect(ranges.getByRole('link', { name: 'Last 7 days' })).toHaveAttribute('aria-current', 'page');
  await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'Model' }).click();
  await expect(page).toHaveURL(/range=7d&group=model/);
  await expect(page.getByRole('heading', { name: 'By model' })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Spend per day' })).toBeVisible();
  await expect(page.getByText('Spend per day: the figures')).toBeVisible();
  // A custom range from the form, kept with the grouping.
  const form = page.getByRole('form', { name: 'Custom range' });
  await form.getByLabel('From').fill('2026-01-01');
  await form.getByLabel('To').fill('2026-01-31');
  await form.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/group=model&from=2026-01-01&to=2026-01-31/);
  await expect(page.getByText('from 1 Jan 2026 to 31 Jan 2026').first()).toBeVisible();

  // A range that cannot be used says why next to the days, which stay as typed.
  await page.goto('/dashboard?from=2026-02-10&to=2026-02-01');
  await expect(page.getByRole('alert')).toHaveText('The first day is after the last. Showing this month instead.');
  await expect(form.getByLabel('From')).toHaveValue('2026-02-10');
  await expect(form.getByLabel('From')).toHaveAttribute('aria-invalid', 'true');
});
