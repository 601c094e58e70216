// The Usage page (/dashboard): what a key spent and why it was refused show up in the table,
// the charts and the refusals list; the range and grouping live in the URL and work with
// JavaScript off; the export is the table.
import { expect, test, type Page } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

async function createTeam(page: Page, name: string, limit: string) {
  await page.goto('/dashboard/configuration/teams');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Team' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create a team' });
  await dialog.getByLabel('Team Name').fill(name);
  await dialog.getByLabel('Monthly Spend Limit (USD)').fill(limit);
  await dialog.getByRole('button', { name: 'Create team' }).click();
  await expect(dialog).toBeHidden();
}

async function teamKey(page: Page, name: string, team: string) {
  await page.goto('/dashboard/keys');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Team').selectOption({ label: team });
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const secret = await dialog.getByLabel('API key').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();
  return secret;
}

test('two teams across models: totals, bars, the CSV, a forecast, and a Member sees only their team', async ({
  page,
  browser,
}) => {
  test.skip(!jsEnabled(), 'the dialogs need JavaScript');
  test.setTimeout(90_000);
  const stamp = Date.now();
  const [fast, slow] = [`Fast ${stamp}`, `Slow ${stamp}`];
  await asOwner(page, '/dashboard/configuration/teams');
  await createTeam(page, fast, '2.25');
  await createTeam(page, slow, '');

  // A Member of the fast team, signed in in a browser of their own.
  const address = `member-${stamp}@example.com`;
  await page.goto('/dashboard/configuration/users');
  await hydrated(page);
  await page.getByRole('button', { name: 'Invite User' }).click();
  const invite = page.getByRole('dialog', { name: 'Invite a user' });
  await invite.getByLabel('Email').fill(address);
  await invite.getByLabel('Team').selectOption({ label: fast });
  await invite.getByRole('button', { name: 'Send invite' }).click();
  const link = await invite.getByLabel('Invite link').inputValue();
  await invite.getByRole('button', { name: 'Done' }).click();
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await member.goto(link);
  await hydrated(member);
  await member.getByLabel('Your name').fill('Fay Fast');
  await member.getByLabel('Password').fill('a long enough password');
  await member.getByRole('button', { name: 'Accept invite' }).click();
  await expect(member).toHaveURL(/\/dashboard$/);

  const chat = (key: string, model: string) =>
    page.request.post('/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      data: { model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
    });
  const fastKey = await teamKey(page, `fast-${stamp}`, fast);
  const slowKey = await teamKey(page, `slow-${stamp}`, slow);
  // Fast: two $1.10 requests of its $2.25. Slow: one of each model, $1.10 and $2.20.
  for (const [key, model] of [
    [fastKey, 'e2e-mini'],
    [fastKey, 'e2e-mini'],
    [slowKey, 'e2e-mini'],
    [slowKey, 'e2e-large'],
  ]) {
    expect((await chat(key, model)).status()).toBe(200);
  }

  const table = page.getByRole('region', { name: 'By team' });
  const fastRow = table.getByRole('row').filter({ hasText: fast });
  const slowRow = table.getByRole('row').filter({ hasText: slow });
  // Settlements are written behind the answers (within a writer round): load until in.
  await expect(async () => {
    await page.goto('/dashboard?range=7d&group=team');
    await expect(slowRow.getByRole('cell').nth(0)).toHaveText('$3.30', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await hydrated(page);
  await expect(fastRow.getByRole('cell').nth(0)).toHaveText('$2.20');
  await expect(fastRow.getByRole('cell').nth(1)).toHaveText('2');
  await expect(slowRow.getByRole('cell').nth(0)).toHaveText('$3.30');
  await expect(slowRow.getByRole('cell').nth(1)).toHaveText('2');
  // Seven days, seven bars to point at in each chart.
  await expect(page.getByRole('img', { name: 'Spend per day' }).locator('.chart-hit')).toHaveCount(7);
  await expect(page.getByRole('img', { name: 'Requests per day' }).locator('.chart-hit')).toHaveCount(7);

  // By model, the same spend split by what was served.
  await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'Model' }).click();
  await expect(page).toHaveURL(/group=model/);
  const large = page.getByRole('region', { name: 'By model' }).getByRole('row').filter({ hasText: 'e2e-large' });
  await expect(large.getByRole('cell').nth(0)).not.toHaveText('$0.00');

  // The CSV is the table: the same groups, figures and share.
  await page.goto('/dashboard?range=7d&group=team');
  await hydrated(page);
  const shown = async (name: string) =>
    (await table.getByRole('row').filter({ hasText: name }).locator('th, td').allTextContents()).map((t) => t.trim());
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const csv = Buffer.concat(await (await (await download).createReadStream()).toArray()).toString('utf8');
  for (const name of [fast, slow]) {
    const [label, spend, requests, tokensIn, tokensOut, refused, share] = await shown(name);
    const line = csv.split('\r\n').find((l) => l.startsWith(`"${name}"`));
    expect(line).toBe(
      [label, spend.replace('$', ''), requests, tokensIn.replace(/,/g, ''), tokensOut.replace(/,/g, ''), refused, share.replace(' %', '')]
        .map((c) => `"${c}"`)
        .join(','),
    );
  }

  // Spending fast: $2.20 of $2.25 already, so the current rate reaches the limit — unless the
  // month ends first (its last day).
  const forecast = page.getByRole('region', { name: 'Forecast' }).getByRole('listitem').filter({ hasText: fast });
  const now = new Date();
  const lastDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
  await expect(forecast).toContainText(
    now.getUTCDate() === lastDay
      ? /Reaches its limit on|Stays under its limit \(projected/
      : /Reaches its limit on \d{1,2} [A-Z][a-z]{2} at the current rate\./,
  );

  // The Member sees their team's figures, not the other team's.
  await member.goto('/dashboard?range=7d&group=team');
  await hydrated(member);
  const theirs = member.getByRole('region', { name: 'By team' });
  await expect(theirs.getByRole('row').filter({ hasText: fast })).toContainText('$2.20');
  await expect(theirs.getByRole('row').filter({ hasText: slow })).toHaveCount(0);
  await expect(member.getByRole('region', { name: 'Forecast' })).not.toContainText(slow);
  await memberContext.close();
});

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
  await expect(refusal).toContainText(
    `API key ‘${name}’ has less left of its monthly budget of $2.00 than a request could cost.`,
  );

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
