// First start: the one-time setup link creates the Owner, refuses bad input without using
// itself up, and is gone for good afterwards.
import { expect, test } from '@playwright/test';
import { OWNER, open } from './helpers';

const link = () => {
  const l = process.env.TOLLGATE_E2E_SETUP_LINK;
  if (!l) throw new Error('global setup did not capture the setup link');
  return l;
};

test('the setup link creates the first Owner, and bad input leaves it usable', async ({ page }) => {
  await open(page, link());
  await expect(page.getByRole('heading', { name: 'Create the Owner account' })).toBeVisible();

  await page.getByLabel('Your name').fill(OWNER.name);
  await page.getByLabel('Email').fill('ada@example');
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Create Owner account' }).click();
  await expect(page.getByText('Enter an email address like name@example.com.')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');

  // Nothing was written: the form is still there and what was typed is kept.
  await expect(page.getByLabel('Your name')).toHaveValue(OWNER.name);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByRole('button', { name: 'Create Owner account' }).click();

  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('banner').getByText(OWNER.name)).toBeVisible();
  await expect(page.getByRole('banner').getByText('Owner', { exact: true })).toBeVisible();
});

test('the setup link refuses a second use', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link());
  await expect(page.getByRole('heading', { name: 'This setup link is no longer valid' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Go to sign in' })).toBeVisible();
  await context.close();
});

test('a made-up setup token is refused', async ({ page }) => {
  await page.goto('/setup?token=not-a-real-token');
  await expect(page.getByRole('heading', { name: 'This setup link is no longer valid' })).toBeVisible();
});
