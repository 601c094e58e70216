// The danger zone: only an Owner sees it, the phrase must be typed, and afterwards only the
// Owner is left. Runs last (see playwright.config.ts).
import { expect, test } from '@playwright/test';
import { OWNER, open, signIn } from './helpers';

const USERS = '/dashboard/configuration/users';

test('only the Owner can delete the access list, after typing the phrase', async ({ page, browser }) => {
  await open(page, `/login?next=${USERS}`);
  await signIn(page, OWNER.email, OWNER.password);
  await page.waitForURL((url) => url.pathname === USERS);
  await open(page, USERS);

  // An Admin does not see the danger zone.
  await page.getByRole('button', { name: 'Invite User' }).click();
  const invite = page.getByRole('dialog', { name: 'Invite a user' });
  await invite.getByLabel('Email').fill('admin-reset@example.com');
  await invite.getByLabel('Role').selectOption({ label: 'Admin' });
  await invite.getByRole('button', { name: 'Send invite' }).click();
  const link = await invite.getByLabel('Invite link').inputValue();
  await invite.getByRole('button', { name: 'Done' }).click();
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await open(admin, link);
  await admin.getByLabel('Your name').fill('Alan Admin');
  await admin.getByLabel('Password').fill('a long enough password');
  await admin.getByRole('button', { name: 'Accept invite' }).click();
  await expect(admin).toHaveURL(/\/dashboard$/);
  await open(admin, USERS);
  await expect(admin.getByRole('heading', { name: 'Danger zone' })).toHaveCount(0);

  // The Owner must type the phrase before the button works.
  await page.reload();
  await open(page, USERS);
  await page.getByRole('button', { name: 'Delete access list…' }).click();
  const dialog = page.getByRole('alertdialog', { name: 'Delete the access list?' });
  const confirm = dialog.getByRole('button', { name: 'Delete access list' });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type .delete access list. to confirm/).fill('delete');
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type .delete access list. to confirm/).fill('delete access list');
  await confirm.click();
  await expect(page.getByRole('status')).toContainText('The access list was deleted');
  await expect(page.getByRole('row').filter({ hasText: '@example.com' })).toHaveCount(1);
  await expect(page.getByRole('row').filter({ hasText: OWNER.email })).toHaveCount(1);

  // The removed Admin's session is gone.
  await admin.goto('/dashboard');
  await expect(admin).toHaveURL(/\/login/);
  await adminContext.close();
});
