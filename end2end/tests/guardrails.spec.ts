// The Guardrails page (/dashboard/configuration/guardrails): the list, read with and without
// JavaScript; a rule added through its dialog (an expression that does not compile is refused
// next to its field, naming where, and what was typed stays), a key's prompt holding the term
// refused by the gateway with 400 guardrail_blocked, the rule's month count showing it, then
// disabled and deleted with confirmation.
import { expect, test } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

const GUARDRAILS = '/dashboard/configuration/guardrails';

test('the Guardrails page lists its rules and explains what a blocked client gets', async ({ page }) => {
  await asOwner(page, GUARDRAILS);
  await expect(page.getByRole('heading', { level: 1, name: 'Guardrails' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Guardrails', exact: true })).toHaveAttribute('aria-current', 'page');
  for (const card of ['Rules', 'Enabled', 'Blocked this month', 'Logged this month']) {
    await expect(page.locator('.card dt', { hasText: card })).toBeVisible();
  }
  await expect(page.getByText(/guardrail_blocked and the rule’s name|guardrail_blocked and the rule's name/)).toBeVisible();
});

test('a blocking rule refuses a matching prompt, and the page counts it', async ({ page }) => {
  test.skip(!jsEnabled(), 'the guardrail and key dialogs need JavaScript');
  const term = `orchid${Date.now()}`;
  const name = `No ${term}`;

  // A key outside any team, which rules for every team also check.
  await asOwner(page, '/dashboard/keys');
  await page.getByRole('button', { name: 'Create key' }).click();
  const issue = page.getByRole('dialog', { name: 'Create an API key' });
  await issue.getByLabel('Name').fill(`guarded-${Date.now()}`);
  await issue.getByRole('button', { name: 'Create key' }).click();
  const secret = await issue.getByLabel('API key').inputValue();
  await issue.getByRole('button', { name: 'Done' }).click();
  const chat = (text: string) =>
    page.request.post('/v1/chat/completions', {
      headers: { authorization: `Bearer ${secret}` },
      data: { model: 'e2e-mini', messages: [{ role: 'user', content: text }], max_tokens: 10 },
    });
  expect((await chat(`tell me about ${term}`)).status()).toBe(200);

  await page.goto(GUARDRAILS);
  await hydrated(page);
  await page.getByRole('button', { name: 'Add guardrail' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a guardrail' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Checks').selectOption({ label: 'Regular expressions' });
  await dialog.getByLabel('Regular expressions, one per line').fill('(?i)orchid[0-9');
  await dialog.getByRole('button', { name: 'Add guardrail' }).click();
  await expect(dialog.getByText('Line 1, character 11: unclosed character class.')).toBeVisible();
  await expect(dialog.getByLabel('Name')).toHaveValue(name);

  await dialog.getByLabel('Checks').selectOption({ label: 'Blocked terms' });
  await dialog.getByLabel('Terms, one per line').fill(term);
  await dialog.getByRole('button', { name: 'Add guardrail' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText('Guardrail added: it checks requests from the next one.')).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText(`Any of: ${term}`);
  await expect(row).toContainText('Block');

  // The very next request holding the term is refused, naming the rule, not the term.
  const refused = await chat(`Tell me about ${term.toUpperCase()} now`);
  expect(refused.status()).toBe(400);
  const error = (await refused.json()).error;
  expect(error.code).toBe('guardrail_blocked');
  expect(error.message).toContain(name);
  expect((await chat('tell me about tulips')).status()).toBe(200);

  // Counted behind the answers (within a writer round): reload until it shows.
  await expect(async () => {
    await page.reload();
    await expect(row.locator('td.num')).toHaveText('1', { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await hydrated(page);

  await row.getByRole('button', { name: `Disable ${name}` }).click();
  await page.getByRole('alertdialog', { name: `Disable guardrail ‘${name}’?` }).getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');
  expect((await chat(`tell me about ${term}`)).status()).toBe(200);

  await row.getByRole('button', { name: `Delete ${name}` }).click();
  await page.getByRole('alertdialog', { name: `Delete guardrail ‘${name}’?` }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);
  await expect(page.getByText('The guardrail was deleted.')).toBeVisible();
});
