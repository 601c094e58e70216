// The Teams page: create (with the limit refused as it is typed), edit, delete with the exact
// confirmation text, the budget bar, cards, search and sort in the URL, and the list with
// JavaScript off.
import { expect, type Locator, test } from '@playwright/test';
import { asOwner, invite, jsEnabled, open } from './helpers';

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
  await expect(dialog.getByText('The amount cannot be negative.')).toBeVisible();
  // The field being typed in is outlined in red while it is refused, not in the focus colour.
  await expect(limit).toBeFocused();
  await expect(limit).toHaveCSS('border-top-color', await dangerColour(limit));
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
  // A per-minute limit that is not a whole number is refused next to its field; then saved.
  await edit.getByLabel('Requests per minute').fill('1.5');
  await edit.getByRole('button', { name: 'Save team' }).click();
  await expect(edit.getByText('Enter a whole number from 1 to 1,000,000')).toBeVisible();
  await edit.getByLabel('Requests per minute').fill('600');
  await edit.getByLabel('Tokens per minute').fill('200,000');
  await edit.getByRole('button', { name: 'Save team' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row).toContainText('$0.00 of $0.00');
  await expect(page.getByText('600 req/min · 200,000 tok/min')).toBeVisible();
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

test('members are added by email and removed in the expanded row, and the Users page agrees both ways', async ({ page }) => {
  test.skip(!jsEnabled(), 'adding and removing members needs JavaScript');
  const stamp = Date.now();
  const address = `member-${stamp}@example.com`;
  const name = `Members ${stamp}`;
  await asOwner(page, '/dashboard/configuration/users');
  await invite(page, address);

  await open(page, TEAMS);
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await create.getByLabel('Team Name').fill(name);
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: name });
  await row.getByRole('button', { name: `Details for ${name}` }).click();
  const detail = page.locator('.detail-row').filter({ hasText: 'Members' });
  await expect(detail.getByText('Nobody is in this team yet.')).toBeVisible();

  const add = detail.getByLabel('Add a member by email');
  await add.fill(`nobody-${stamp}@example.com`);
  await detail.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(detail.getByText('Nobody on this gateway has that email.')).toBeVisible();
  await expect(add).toHaveAttribute('aria-invalid', 'true');

  await add.fill(address.toUpperCase());
  await detail.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(detail.locator('.member').filter({ hasText: address })).toContainText('invite pending');
  await expect(add).toHaveValue('');
  // The row stays open while the list reloads, and its member count follows.
  await expect(row.getByRole('cell').nth(2)).toHaveText('1');

  await page.goto(`/dashboard/configuration/users?q=${encodeURIComponent(address)}`);
  await expect(page.getByRole('row').filter({ hasText: address })).toContainText(name);

  await open(page, `${TEAMS}?q=${encodeURIComponent(name)}`);
  await row.getByRole('button', { name: `Details for ${name}` }).click();
  await detail.getByRole('button', { name: `Remove ${address} from the team` }).click();
  await expect(detail.getByText('Nobody is in this team yet.')).toBeVisible();
  await expect(row.getByRole('cell').nth(2)).toHaveText('0');

  // Change Team on the Users page puts them back; the Teams page agrees.
  await page.goto(`/dashboard/configuration/users?q=${encodeURIComponent(address)}`);
  const person = page.getByRole('row').filter({ hasText: address });
  await expect(person).not.toContainText(name);
  await person.locator('summary', { hasText: 'Actions' }).click();
  await person.getByRole('button', { name: 'Change Team', exact: true }).click();
  const change = page.getByRole('dialog', { name: `Change team of ${address}` });
  await expect(change.getByRole('button', { name: 'Save team' })).toBeDisabled();
  await change.getByLabel('Team').selectOption({ label: name });
  await change.getByRole('button', { name: 'Save team' }).click();
  await expect(page.getByRole('status')).toContainText(`${address} is now in ${name}.`);
  await expect(person).toContainText(name);
  await page.goto(`${TEAMS}?q=${encodeURIComponent(name)}`);
  await expect(row.getByRole('cell').nth(2)).toHaveText('1');
});

test('spend through the gateway fills the budget bar: yellow at 77 %, full and red past the limit', async ({ page }) => {
  test.skip(!jsEnabled(), 'the team and key dialogs need JavaScript');
  const name = `Gateway ${Date.now()}`;
  await asOwner(page, TEAMS);
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await create.getByLabel('Team Name').fill(name);
  await create.getByLabel('Monthly Spend Limit (USD)').fill('10');
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);

  // A key for the team, issued on the keys page, used by an API client.
  await open(page, '/dashboard/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  const issue = page.getByRole('dialog', { name: 'Create an API key' });
  await issue.getByLabel('Name').fill('budget-e2e');
  await issue.getByLabel('Team').selectOption({ label: name });
  await issue.getByRole('button', { name: 'Create key' }).click();
  const secret = await issue.getByLabel('API key').inputValue();
  for (let i = 0; i < 7; i++) {
    const res = await page.request.post('/v1/chat/completions', {
      headers: { authorization: `Bearer ${secret}` },
      data: { model: 'e2e-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
    });
    expect(res.status()).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe('Hello from the stub.');
  }

  // Seven requests at $1.10 against $10: 77 %, yellow; the figures are the gateway's.
  const row = page.getByRole('row').filter({ hasText: name });
  const bar = row.getByRole('progressbar', { name: 'Budget used' });
  // Settlements are written behind the answers (within a writer round): load until in.
  await expect(async () => {
    await page.goto(`${TEAMS}?q=${encodeURIComponent(name)}`);
    expect(await bar.getAttribute('aria-valuenow', { timeout: 500 })).toBe('77');
  }).toPass({ timeout: 10_000 });
  await expect(row).toContainText('$7.70 of $10.00');
  await expect(row.locator('.budget-track')).toHaveClass(/band-yellow/);
  await expect(row.getByRole('cell').nth(4)).toHaveText('7');

  // The limit lowered below the spend: the bar is full, red, and says the true share.
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('dialog', { name: `Edit ${name}` });
  await edit.getByLabel('Monthly Spend Limit (USD)').fill('5');
  await edit.getByRole('button', { name: 'Save team' }).click();
  await expect(edit).toHaveCount(0);
  await expect(row).toContainText('$7.70 of $5.00');
  await expect(row).toContainText('154.0 %');
  await expect(row.locator('.budget-track')).toHaveClass(/band-red/);
  await expect(row.locator('.budget-fill')).toHaveAttribute('style', /width: 100(\.0)?%/);
  // And the gateway refuses the team's next request.
  const refused = await page.request.post('/v1/chat/completions', {
    headers: { authorization: `Bearer ${secret}` },
    data: { model: 'e2e-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
  });
  expect(refused.status()).toBe(402);
  expect((await refused.json()).error.code).toBe('budget_exceeded');
});

test('a team budget per member shows on its members, and one member gets their own', async ({ page }) => {
  test.skip(!jsEnabled(), 'the team and budget dialogs need JavaScript');
  const stamp = Date.now();
  const name = `Budgets ${stamp}`;
  const address = `budget-${stamp}@example.com`;
  await asOwner(page, '/dashboard/configuration/users');
  await invite(page, address);

  await open(page, TEAMS);
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await create.getByLabel('Team Name').fill(name);
  await create.getByLabel('Budget per member (USD a month)').fill('abc');
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create.getByLabel('Budget per member (USD a month)')).toHaveAttribute('aria-invalid', 'true');
  await create.getByLabel('Budget per member (USD a month)').fill('25');
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);
  const row = page.getByRole('row').filter({ hasText: name });
  await row.getByRole('button', { name: `Details for ${name}` }).click();
  const detail = page.locator('.detail-row').filter({ hasText: 'Members' });
  await expect(detail).toContainText('$25.00/month');
  await detail.getByLabel('Add a member by email').fill(address);
  await detail.getByRole('button', { name: 'Add', exact: true }).click();
  const member = detail.locator('.member').filter({ hasText: address });
  await expect(member).toContainText('$0.00 of $25.00');
  await expect(member).toContainText('team default');

  await member.getByRole('button', { name: `Budget of ${address}` }).click();
  const budget = page.getByRole('dialog', { name: `Budget of ${address}` });
  await budget.getByLabel('Their monthly budget (USD)').fill('-1');
  await budget.getByRole('button', { name: 'Save budget' }).click();
  await expect(budget.getByLabel('Their monthly budget (USD)')).toHaveAttribute('aria-invalid', 'true');
  await budget.getByLabel('Their monthly budget (USD)').fill('40');
  await budget.getByRole('button', { name: 'Save budget' }).click();
  await expect(budget).toBeHidden();
  await expect(page.getByRole('status')).toContainText(`${address}'s budget is now $40.00 a month.`);
  await expect(member).toContainText('$0.00 of $40.00');
  await expect(member).toContainText('own budget');

  // The Users page's expanded row shows the same.
  await page.goto(`/dashboard/configuration/users?q=${encodeURIComponent(address)}`);
  const person = page.getByRole('row').filter({ hasText: address });
  await person.getByRole('button', { name: `Details for ${address}` }).click();
  await expect(page.locator('.detail-row')).toContainText('$0.00 of $40.00');

  // The person's history in the audit log: their budget, and nothing of anyone else's.
  await page.locator('.detail-row').getByRole('link', { name: 'History in the audit log' }).click();
  await expect(page).toHaveURL(/\/dashboard\/configuration\/audit\?target=user%3A\d+/);
  await expect(page.getByText(/The history of user:\d+ only/)).toBeVisible();
  const entries = page.locator('tbody tr');
  await expect(entries.filter({ hasText: "Set a member's budget" })).toHaveCount(1);
  await expect(entries.filter({ hasText: 'Created a team' })).toHaveCount(0);
  // Each entry's target links to that thing's history; "Show every entry" drops the filter.
  await page.getByRole('link', { name: 'Show every entry' }).click();
  await expect(page).not.toHaveURL(/target=/);
  await expect(page.locator('tbody tr').filter({ hasText: 'Created a team' }).first()).toBeVisible();
});

test('the search runs as you type, keeping the box and the sort', async ({ page }) => {
  test.skip(!jsEnabled(), 'searching as you type needs JavaScript');
  await asOwner(page, `${TEAMS}?sort=spend&dir=desc`);
  const search = page.getByLabel('Search teams');
  await search.pressSequentially('zz-no-such', { delay: 30 });
  // No Enter, no button: the pause after typing runs it.
  await expect(page).toHaveURL(/q=zz-no-such/);
  await expect(page).toHaveURL(/sort=spend&dir=desc/);
  await expect(page.getByText('No teams match this search.')).toBeVisible();
  await expect(search).toHaveValue('zz-no-such');
  await expect(search).toBeFocused();
});

/** The theme's danger colour as the browser computes it (`rgb(…)`), next to `field`. */
async function dangerColour(field: Locator): Promise<string> {
  return field.evaluate((input) => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--danger)';
    input.parentElement!.append(probe);
    const colour = getComputedStyle(probe).color;
    probe.remove();
    return colour;
  });
}
