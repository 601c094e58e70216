// The audit log page: an Owner finds their own sign-in and a team they created, filters by kind,
// words, who acted and what it was on through the address (JavaScript on or off), downloads them
// as CSV, and a bad range is explained.
import { expect, test } from '@playwright/test';
import { OWNER, asOwner, jsEnabled, open } from './helpers';

const AUDIT = '/dashboard/configuration/audit';

test('the audit log lists sign-ins and changes, filtered from the address', async ({ page }) => {
  await asOwner(page, AUDIT);
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Audit log' })).toHaveAttribute('aria-current', 'page');
  const signIn = page.getByRole('row').filter({ hasText: 'Signed in' }).first();
  await expect(signIn).toContainText(OWNER.email);
  await expect(signIn).toContainText('session.sign_in');

  await page.goto(`${AUDIT}?kind=teams`);
  await expect(page.getByLabel('Kind')).toHaveValue('teams');
  await expect(page.getByRole('row').filter({ hasText: 'Signed in' })).toHaveCount(0);

  // Export CSV downloads what the filters match.
  const exportLink = page.getByRole('link', { name: 'Export CSV' });
  await expect(exportLink).toHaveAttribute('href', `${AUDIT}.csv?kind=teams`);
  const [file] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
  expect(file.suggestedFilename()).toMatch(/^tollgate-audit-\d{4}-\d{2}-\d{2}\.csv$/);
  const download = await page.request.get(`${AUDIT}.csv?kind=sign-ins`);
  expect(download.headers()['content-type']).toContain('text/csv');
  const csv = await download.text();
  expect(csv.split('\r\n')[0]).toBe('"when_utc","who","action","action_code","on","what_changed"');
  expect(csv).toContain(`"${OWNER.email}","Signed in","session.sign_in"`);

  // Who acted and what it was on: a typed email applies when committed, a kind of thing at once.
  await open(page, AUDIT);
  await page.getByLabel('Who acted (their email)').fill(OWNER.email.toUpperCase());
  await page.getByLabel('Who acted (their email)').press('Enter');
  await expect(page).toHaveURL(/who=ADA%40EXAMPLE\.COM/);
  await expect(page.getByRole('row').filter({ hasText: 'Signed in' }).first()).toContainText(OWNER.email);
  await page.getByLabel('On', { exact: true }).selectOption({ label: 'Teams' });
  if (!jsEnabled()) await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/on=team/);
  await expect(page).toHaveURL(/who=ADA%40EXAMPLE\.COM/);
  await expect(page.getByRole('row').filter({ hasText: 'Signed in' })).toHaveCount(0);
  await page.goto(`${AUDIT}?who=nobody%40example.com`);
  await expect(page.getByText('No entries match these filters.')).toBeVisible();
  await expect(page.getByLabel('Who acted (their email)')).toHaveValue('nobody@example.com');

  await page.goto(`${AUDIT}?q=zz-no-such-entry`);
  await expect(page.getByText('No entries match these filters.')).toBeVisible();
  await expect(page.getByLabel('Search the audit log')).toHaveValue('zz-no-such-entry');

  await page.goto(`${AUDIT}?from=2026-12-31&to=2026-01-01`);
  await expect(page.getByRole('alert')).toContainText('Pick a day on or after the first one.');
});
