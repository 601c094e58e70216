// The Providers page (/dashboard/configuration/providers): the providers file's stub listed as
// read-only; a provider added pointing at the stub upstream, its key shown only by its last four
// characters, its connection tested, a duplicate name refused next to the field, disabled and
// deleted with confirmation; and the list without JavaScript.
import { expect, test } from '@playwright/test';
import { asOwner, hydrated, jsEnabled } from './helpers';

const PROVIDERS = '/dashboard/configuration/providers';
const KEY = 'sk-e2e-provider-key-4321';

test('the providers file’s provider is listed read-only, without its key', async ({ page }) => {
  await asOwner(page, PROVIDERS);
  await expect(page.getByRole('heading', { level: 1, name: 'Providers' })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: 'from file' });
  await expect(row).toContainText('stub');
  await expect(row).toContainText('OpenAI-compatible');
  await expect(row).toContainText('e2e-large, e2e-mini');
  await expect(row.getByRole('button', { name: /^Edit/ })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Providers', exact: true })).toHaveAttribute('aria-current', 'page');
});

test('a provider is added, tested, refused a duplicate name, disabled and deleted', async ({ page }) => {
  test.skip(!jsEnabled(), 'the provider dialogs need JavaScript');
  const stubUrl = process.env.TOLLGATE_E2E_STUB_URL;
  if (!stubUrl) throw new Error('global setup exports the stub URL');
  await asOwner(page, PROVIDERS);
  const name = `local-${Date.now()}`;
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a provider' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Base URL').fill('not a url');
  await dialog.getByLabel('API key').fill(KEY);
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  // The browser's own URL check may stop it first; either way it is not added.
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Base URL').fill(stubUrl);
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog).toHaveCount(0);

  const row = page.getByRole('row').filter({ hasText: name });
  await expect(row).toContainText('Set ····4321');
  await expect(row).toContainText('Not tested');
  expect(await page.content()).not.toContain(KEY);

  await row.getByRole('button', { name: `Test connection to ${name}` }).click();
  await expect(row).toContainText('OK · 2 models');
  await expect(page.getByText('Connection test: OK · 2 models')).toBeVisible();

  // Rendered by the server with two providers, the page hydrates: no panic, and a row's
  // buttons work.
  const panics: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('panicked')) panics.push(m.text());
  });
  await page.reload();
  await hydrated(page);
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  await expect(page.getByRole('dialog', { name: `Edit ${name}` })).toBeVisible();
  await page.getByRole('dialog', { name: `Edit ${name}` }).getByRole('button', { name: 'Cancel' }).click();
  expect(panics).toEqual([]);

  // The same name in capitals is refused next to the field, and what was typed stays.
  await page.getByRole('button', { name: 'Add provider' }).click();
  await dialog.getByLabel('Name').fill(name.toUpperCase());
  await dialog.getByLabel('Base URL').fill(stubUrl);
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog.getByText('Another provider has this name (names ignore case).')).toBeVisible();
  await expect(dialog.getByLabel('Base URL')).toHaveValue(stubUrl);
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Pointing it at another server asks for the key again.
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('dialog', { name: `Edit ${name}` });
  await edit.getByLabel('Base URL').fill('http://127.0.0.2:9/v1');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(edit.getByText(/enter the key again/)).toBeVisible();
  await edit.getByRole('button', { name: 'Cancel' }).click();

  await row.getByRole('button', { name: `Disable ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Disable provider ‘${name}’?` });
  await confirm.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');

  await row.getByRole('button', { name: `Delete ${name}` }).click();
  await page.getByRole('alertdialog', { name: `Delete provider ‘${name}’?` }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('row').filter({ hasText: name })).toHaveCount(0);
  await expect(page.getByText('The provider was deleted.')).toBeVisible();
});
