// Shared fixtures: the Owner created by the setup test, and navigation that waits for
// hydration when JavaScript is on (so a click exercises the hydrated app, not the plain form).
import { expect, test, type Page } from '@playwright/test';

export const OWNER = {
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  password: 'correct horse battery staple',
};

export async function open(page: Page, url: string) {
  await page.goto(url);
  await hydrated(page);
}

/** Signs the Owner in and lands on `path`, hydrated. */
export async function asOwner(page: Page, path: string) {
  await open(page, `/login?next=${encodeURIComponent(path)}`);
  await signIn(page, OWNER.email, OWNER.password);
  await page.waitForURL((url) => url.pathname + url.search === path);
  await hydrated(page);
}

/** Whether this project runs with JavaScript (the no-js project turns it off). */
export function jsEnabled(): boolean {
  return test.info().project.use.javaScriptEnabled !== false;
}

export async function hydrated(page: Page) {
  if (jsEnabled()) await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

export async function signIn(page: Page, email: string, password: string) {
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Invites `email` (as a Member) from the Users page, signed in as someone who may, and closes
 *  the dialog. */
export async function invite(page: Page, email: string) {
  await page.goto('/dashboard/configuration/users');
  await hydrated(page);
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByRole('button', { name: 'Send invite' }).click();
  await dialog.getByRole('button', { name: 'Done' }).click();
}
