// The Routes page (/dashboard/configuration/routes): the providers file's models listed as
// read-only routes, with and without JavaScript; then the whole path an operator takes — a
// provider added pointing at the stub upstream and tested, a route added to it (a bad price
// refused next to its field, what was typed kept), a key issued in a capped team, requests
// spent through the route, the team's spend on the Teams page and the route's count on the
// Routes page, the route disabled (404 model_not_found) and deleted with confirmation.
import { expect, test } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

const ROUTES = '/dashboard/configuration/routes';

test('the providers file’s models are listed as read-only routes', async ({ page }) => {
  await asOwner(page, ROUTES);
  await expect(page.getByRole('heading', { level: 1, name: 'Routes' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Routes', exact: true })).toHaveAttribute('aria-current', 'page');
  for (const card of ['Routes', 'Served', 'With a fallback', 'Spend this month']) {
    await expect(page.locator('.card dt', { hasText: card })).toBeVisible();
  }
  const row = page.getByRole('row').filter({ hasText: 'e2e-mini' }).filter({ hasText: 'from file' });
  await expect(row).toContainText('stub');
  await expect(row).toContainText('$10,000 / $10,000 per Mtok');
  await expect(row).toContainText('Enabled');
  await expect(row.getByRole('button', { name: /^Edit/ })).toHaveCount(0);
});

test('a provider, a route to it and a key: spend through the route reaches the Teams page', async ({ page }) => {
  test.skip(!jsEnabled(), 'the provider, route, team and key dialogs need JavaScript');
  const stubUrl = process.env.TOLLGATE_E2E_STUB_URL;
  if (!stubUrl) throw new Error('global setup exports the stub URL');
  const stamp = Date.now();
  const provider = `routed-${stamp}`;
  const route = `routed-chat-${stamp}`;
  const team = `Routed ${stamp}`;

  // A provider pointing at the stub, tested.
  await asOwner(page, '/dashboard/configuration/providers');
  await page.getByRole('button', { name: 'Add provider' }).click();
  const addProvider = page.getByRole('dialog', { name: 'Add a provider' });
  await addProvider.getByLabel('Name').fill(provider);
  await addProvider.getByLabel('Base URL').fill(stubUrl);
  await addProvider.getByLabel('API key').fill('sk-e2e-routed-9876');
  await addProvider.getByRole('button', { name: 'Add provider' }).click();
  await expect(addProvider).toHaveCount(0);
  const providerRow = page.getByRole('row').filter({ hasText: provider });
  await providerRow.getByRole('button', { name: `Test connection to ${provider}` }).click();
  await expect(providerRow).toContainText('OK · 2 models');

  // A route to it: a negative price is refused next to its field, and what was typed stays.
  await page.goto(ROUTES);
  await hydrated(page);
  await page.getByRole('button', { name: 'Add route' }).click();
  const addRoute = page.getByRole('dialog', { name: 'Add a route' });
  await addRoute.getByLabel('Model name clients ask for').fill(route);
  await addRoute.getByLabel('Provider', { exact: true }).selectOption({ label: provider });
  await addRoute.getByLabel('Model at the provider').fill('e2e-mini');
  await addRoute.getByLabel('Input $ per Mtok').fill('-1');
  await addRoute.getByLabel('Output $ per Mtok').fill('5000');
  await addRoute.getByLabel('Max output tokens').fill('10');
  await addRoute.getByRole('button', { name: 'Add route' }).click();
  await expect(addRoute.getByText('A price cannot be negative.')).toBeVisible();
  await expect(addRoute.getByLabel('Model name clients ask for')).toHaveValue(route);
  await addRoute.getByLabel('Input $ per Mtok').fill('1000');
  await addRoute.getByRole('button', { name: 'Add route' }).click();
  await expect(addRoute).toHaveCount(0);
  await expect(page.getByText('Route added: clients can call it from the next request.')).toBeVisible();
  const routeRow = page.getByRole('row').filter({ hasText: route });
  await expect(routeRow).toContainText(provider);
  await expect(routeRow).toContainText('$1,000 / $5,000 per Mtok');

  // A team with a $10 limit, and a key in it.
  await page.goto('/dashboard/configuration/teams');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await create.getByLabel('Team Name').fill(team);
  await create.getByLabel('Monthly Spend Limit (USD)').fill('10');
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);
  await page.goto('/dashboard/keys');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create key' }).click();
  const issue = page.getByRole('dialog', { name: 'Create an API key' });
  await issue.getByLabel('Name').fill(`routed-key-${stamp}`);
  await issue.getByLabel('Team', { exact: true }).selectOption({ label: team });
  await issue.getByRole('button', { name: 'Create key' }).click();
  const secret = await issue.getByLabel('API key').inputValue();
  const auth = { authorization: `Bearer ${secret}` };
  const chat = () =>
    page.request.post('/v1/chat/completions', {
      headers: auth,
      data: { model: route, messages: [{ role: 'user', content: 'Hello' }] },
    });

  const models = await (await page.request.get('/v1/models', { headers: auth })).json();
  expect(models.data.map((m: { id: string }) => m.id)).toContain(route);
  // Three requests; the stub reports 100 tokens in and 10 out: $0.10 + $0.05 each.
  for (let i = 0; i < 3; i++) {
    const res = await chat();
    expect(res.status()).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe('Hello from the stub.');
  }
  const teamRow = page.getByRole('row').filter({ hasText: team });
  await expect(async () => {
    await page.goto(`/dashboard/configuration/teams?q=${encodeURIComponent(team)}`);
    await expect(teamRow).toContainText('$0.45 of $10.00', { timeout: 500 });
  }).toPass({ timeout: 10_000 });

  // The route's own count, then disabled (clients get 404) and deleted, each confirmed.
  await expect(async () => {
    await page.goto(ROUTES);
    await expect(routeRow.locator('td.num').first()).toHaveText('3', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(routeRow.locator('td.num').nth(1)).toHaveText('$0.45');
  await hydrated(page);
  await routeRow.getByRole('button', { name: `Disable ${route}` }).click();
  await page.getByRole('alertdialog', { name: `Disable route ‘${route}’?` }).getByRole('button', { name: 'Disable' }).click();
  await expect(routeRow).toContainText('Disabled');
  const refused = await chat();
  expect(refused.status()).toBe(404);
  expect((await refused.json()).error.code).toBe('model_not_found');

  await routeRow.getByRole('button', { name: `Delete ${route}` }).click();
  await page.getByRole('alertdialog', { name: `Delete route ‘${route}’?` }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('row').filter({ hasText: route })).toHaveCount(0);
  await expect(page.getByText('The route was deleted.')).toBeVisible();

  // With the route gone, its provider can be deleted too.
  await page.goto('/dashboard/configuration/providers');
  await hydrated(page);
  await providerRow.getByRole('button', { name: `Delete ${provider}` }).click();
  await page.getByRole('alertdialog', { name: `Delete provider ‘${provider}’?` }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('row').filter({ hasText: provider })).toHaveCount(0);
});
