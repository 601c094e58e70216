// The Teams page: create (with the limit refused as it is typed), edit, delete with the exact
// confirmation text, the budget bar, cards, search and sort in the URL, and the list with
// JavaScript off.
import { expect, test } from '@playwright/test';
import { asOwner, jsEnabled } from './helpers';

const TEAMS = '/dashboard/configuration/teams';

test('a team is created, edited and deleted, and a bad limit is refused before submit', async ({ page }) => {
  test.skip(!jsEnabled(), 'the team dialogs need JavaScript');
  await asOwner(page, TEAMS);
  const name = `Platform ${Date.now()}`;
  await page.getByRole('button', { name: 'Create Team' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a team' });
  await dialog.getByLabel('Team Name').fill(name);
  await dialog.getByLabel('Description').fill('Runs the shared services.');
  const limit = dialog.getByLabel('Monthly Spend Limit (USD)');
  await limit.fill('-5');
  await expect(dialog.getByText('The limit cannot be negative.')).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Create team' })).toBeDisabled();
  await limit.fill('12.345');
  await expect(dialog.getByText('Use at most two decimal places.')).toBeVisible();
  await limit.fill('1,000');
  await expect(dialog.getByText('Use at most two decimal places.')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Create team' }).click();
  await expect(dialog).toHaveCount(0);

  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row.getByRole('progressbar', { name: 'Budget used' })).toHaveAttribute('aria-valuenow', '0');
  await expect(row).toContainText('$0.00 of $1,000.00');
  await expect(row.locator('.budget-track')).toHaveClass(/band-green/);
  await row.getByRole('button', { name: `Details for ${name}` }).click();
  await expect(page.getByText('Runs the shared services.')).toBeVisible();
  await expect(page.getByText('No API keys.')).toBeVisible();

  // A duplicate name, whatever its case, is refused next to the field.
  await page.getByRole('button', { name: 'Create Team' }).click();
  await dialog.getByLabel('Team Name').fill(name.toUpperCase());
  await dialog.getByRole('button', { name: 'Create team' }).click();
  await expect(dialog.getByText('A team with this name already exists.')).toBeVisible();
  await page.keyboard.press('Escape');

  await row.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('dialog', { name: `Edit ${name}` });
  await expect(edit.getByLabel('Monthly Spend Limit (USD)')).toHaveValue('1000.00');
  await edit.getByLabel('Monthly Spend Limit (USD)').fill('0');
  await edit.getByRole('button', { name: 'Save team' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row).toContainText('$0.00 of $0.00');
  await expect(row.locator('.budget-track')).toHaveClass(/band-red/);

  await row.getByRole('button', { name: `Delete ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Delete team ‘${name}’?` });
  await expect(confirm).toContainText('0 members will be left without a team and 0 keys will be revoked.');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText('The team was deleted')).toBeVisible();
});

test('the teams list, search and sort work from the address alone', async ({ page }) => {
  await asOwner(page, `${TEAMS}?q=zz-no-such-team&sort=spend&dir=desc`);
  await expect(page.getByRole('heading', { level: 1, name: 'Teams' })).toBeVisible();
  for (const card of ['Total teams', 'Total members', 'Monthly spend', 'Monthly requests']) {
    await expect(page.locator('dt', { hasText: card })).toBeVisible();
  }
  await expect(page.getByLabel('Search teams')).toHaveValue('zz-no-such-team');
  await expect(page.getByText('No teams match this search.')).toBeVisible();
  await expect(page.getByRole('columnheader', { name: /Monthly spend/ })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByRole('search')).toHaveAttribute('method', /get/i);
});
