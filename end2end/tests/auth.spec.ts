// Signing in and out, run hydrated and with JavaScript off (see playwright.config.ts).
import { expect, test } from '@playwright/test';
import { OWNER, open, signIn } from './helpers';

test('a protected page redirects to sign in, then back to where you were going', async ({ page }) => {
  await page.goto('/dashboard/configuration/teams');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard\/configuration\/teams$/);
  await signIn(page, OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/dashboard\/configuration\/teams$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Teams' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teams' })).toHaveAttribute('aria-current', 'page');
});

test('a wrong password and an unknown email get the same message', async ({ page }) => {
  await open(page, '/login');
  await signIn(page, OWNER.email, 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/login/);

  await open(page, '/login');
  await signIn(page, 'nobody@example.com', 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
});

test('signing in shows your name and role; signing out ends the session', async ({ page }) => {
  await open(page, '/login');
  await signIn(page, OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();
  const banner = page.getByRole('banner');
  await expect(banner.getByText(OWNER.name)).toBeVisible();
  await expect(banner.getByText('Owner', { exact: true })).toBeVisible();

  await banner.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
});

test('the navigation reaches every section', async ({ page }) => {
  await open(page, '/login');
  await signIn(page, OWNER.email, OWNER.password);
  await expect(page).toHaveURL(/\/dashboard$/);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const [link, heading] of [['Users', 'Users'], ['Teams', 'Teams'], ['API keys', 'API keys'], ['Usage', 'Usage']]) {
    await nav.getByRole('link', { name: link }).click();
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  }
});
