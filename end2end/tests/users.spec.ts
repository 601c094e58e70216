// The Users page: list, cards, search/filter/sort in the URL, invites end to end, row actions,
// and what a Viewer sees. Flows that need dialogs run hydrated only; the list runs both ways.
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { OWNER, asOwner as signedIn, hydrated, jsEnabled, open } from './helpers';

const USERS = '/dashboard/configuration/users';

async function asOwner(page: Page, path = USERS) {
  await signedIn(page, path);
}

/** A unique email per project and test, so the hydrated and no-js runs do not collide. */
function email(tag: string) {
  return `${tag}-${test.info().project.name}-${Date.now()}@example.com`;
}

/** Invites `address` through the dialog and returns the link it shows. */
async function invite(page: Page, address: string, role = 'Member') {
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await dialog.getByLabel('Email').fill(address);
  await dialog.getByLabel('Role').selectOption({ label: role });
  await dialog.getByRole('button', { name: 'Send invite' }).click();
  await expect(dialog.getByText(`${address} is invited as ${role}.`)).toBeVisible();
  const link = await dialog.getByLabel('Invite link').inputValue();
  await dialog.getByRole('button', { name: 'Done' }).click();
  return link;
}

/** Accepts an invite in a fresh browser context, as the invited person would. */
async function accept(browser: Browser, link: string, name: string, password = 'a long enough password') {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Join this gateway' })).toBeVisible();
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Accept invite' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('banner').getByText(name)).toBeVisible();
  return { context, page };
}

function row(page: Page, text: string) {
  return page.getByRole('row').filter({ hasText: text });
}

/** Opens the row's Actions menu and picks `name`. */
async function act(r: Locator, name: string) {
  await r.locator('summary', { hasText: 'Actions' }).click();
  await r.getByRole('button', { name, exact: true }).click();
}

test('with JavaScript off, the list is rendered from the address alone', async ({ page }) => {
  test.skip(jsEnabled(), 'the hydrated project covers this interactively');
  // One navigation: sign in straight to a searched, filtered, sorted address — what the GET form
  // and the sort links produce.
  await asOwner(page, `${USERS}?q=LOVELACE&role=owner&sort=email&dir=desc`);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(page.getByRole('searchbox', { name: 'Search users' })).toHaveValue('LOVELACE');
  await expect(page.getByRole('combobox', { name: 'Role' })).toHaveValue('owner');
  await expect(row(page, OWNER.email)).toContainText('Owner');
  await expect(page.getByRole('columnheader', { name: 'Email' })).toHaveAttribute('aria-sort', 'descending');
  await expect(page.getByRole('link', { name: 'Email' })).toHaveAttribute('href', '?q=LOVELACE&role=owner&sort=email');
  const form = page.getByRole('search');
  await expect(form).toHaveAttribute('method', 'get');
  await expect(form).toHaveAttribute('action', USERS);
  for (const card of ['Total users', 'Active', 'Admins', 'Pending invites']) {
    await expect(page.getByText(card, { exact: true })).toBeVisible();
  }
});

test('the list shows the Owner, the cards, and keeps search, filter and sort in the URL', async ({ page }) => {
  test.skip(!jsEnabled(), 'the no-JS variant above renders from the address alone');
  await asOwner(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  for (const card of ['Total users', 'Active', 'Admins', 'Pending invites']) {
    await expect(page.getByText(card, { exact: true })).toBeVisible();
  }
  await expect(row(page, OWNER.email)).toContainText('Owner');
  await expect(row(page, OWNER.email)).toContainText('active');

  // Search: debounced typing; the address keeps it, so reopening it shows the same.
  await page.getByRole('searchbox', { name: 'Search users' }).fill('LOVELACE');
  await expect(page).toHaveURL(/q=LOVELACE/);
  await expect(row(page, OWNER.email)).toBeVisible();
  await open(page, page.url());
  await expect(page.getByRole('searchbox', { name: 'Search users' })).toHaveValue('LOVELACE');

  await open(page, `${USERS}?q=nobody-matches-this`);
  await expect(page.getByText('No users match this search.')).toBeVisible();

  await open(page, `${USERS}?role=viewer&q=ada`);
  await expect(page.getByRole('combobox', { name: 'Role' })).toHaveValue('viewer');
  await expect(row(page, OWNER.email)).toHaveCount(0);

  // Sorting: the header is a link that toggles direction and shows it.
  await open(page, USERS);
  await page.getByRole('link', { name: 'Email' }).click();
  await expect(page).toHaveURL(/sort=email/);
  await expect(page.getByRole('columnheader', { name: 'Email' })).toHaveAttribute('aria-sort', 'ascending');
  await page.getByRole('link', { name: 'Email' }).click();
  await expect(page).toHaveURL(/sort=email&dir=desc/);
  await expect(page.getByRole('columnheader', { name: 'Email' })).toHaveAttribute('aria-sort', 'descending');
});

test('an invited person accepts in another browser and appears active', async ({ page, browser }) => {
  test.skip(!jsEnabled(), 'the invite dialog needs JavaScript');
  await asOwner(page);
  const address = email('grace');
  const link = await invite(page, address);
  await expect(row(page, address)).toContainText('invited');
  await expect(row(page, address)).toContainText('pending');

  const { context } = await accept(browser, link, 'Grace Hopper');
  await context.close();
  await page.reload();
  await expect(row(page, address)).toContainText('Grace Hopper');
  await expect(row(page, address)).toContainText('active');

  // The link works once.
  const again = await browser.newContext();
  const second = await again.newPage();
  await second.goto(link);
  await expect(second.getByRole('heading', { name: 'This invite cannot be used' })).toBeVisible();
  await expect(second.getByText('This invite has already been used. Sign in instead.')).toBeVisible();
  await again.close();
});

test('the invite dialog keeps Tab inside it and gives focus back to its button', async ({ page }) => {
  test.skip(!jsEnabled(), 'the invite dialog needs JavaScript');
  await asOwner(page);
  const opener = page.getByRole('button', { name: 'Invite User' });
  await opener.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await expect(dialog.getByLabel('Email')).toBeFocused();
  const inside = () => dialog.evaluate((el) => el.contains(document.activeElement));
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await inside(), `after ${i + 1} Tab presses`).toBe(true);
  }
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Shift+Tab');
    expect(await inside(), `after ${i + 1} Shift+Tab presses`).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();
});

test('double-submitting the invite form invites once', async ({ page }) => {
  test.skip(!jsEnabled(), 'the invite dialog needs JavaScript');
  await asOwner(page);
  const address = email('twice');
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await dialog.getByLabel('Email').fill(address);
  await dialog.getByRole('button', { name: 'Send invite' }).dblclick();
  // A second submission would answer "already on the access list" and replace the outcome.
  await expect(dialog.getByText(`${address} is invited as Member.`)).toBeVisible();
  await expect(dialog.getByText('Someone with this email is already on the access list.')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Done' }).click();
  await page.reload();
  await expect(row(page, address)).toHaveCount(1);
});

test('a 10,000-character name is refused next to the field and the invite still works', async ({ page, browser }) => {
  test.skip(!jsEnabled(), 'the invite dialog needs JavaScript');
  await asOwner(page);
  const address = email('long');
  const link = await invite(page, address);
  const context = await browser.newContext();
  const joiner = await context.newPage();
  await joiner.goto(link);
  await hydrated(joiner);
  const name = joiner.getByLabel('Your name');
  // The field stops typing at 100 characters; a crafted request is not stopped by that.
  await name.evaluate((el) => el.removeAttribute('maxlength'));
  await name.fill('x'.repeat(10_000));
  await joiner.getByLabel('Password').fill('a long enough password');
  await joiner.getByRole('button', { name: 'Accept invite' }).click();
  await expect(joiner.getByText('Use at most 100 characters.')).toBeVisible();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(joiner).toHaveURL(link);
  // Nothing was half-written: the same link still accepts a proper name.
  await name.fill('Ada Byron');
  await joiner.getByRole('button', { name: 'Accept invite' }).click();
  await expect(joiner).toHaveURL(/\/dashboard$/);
  await context.close();
});

test('a duplicate email is refused next to the field, whatever its case', async ({ page }) => {
  test.skip(!jsEnabled(), 'the invite dialog needs JavaScript');
  await asOwner(page);
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await dialog.getByLabel('Email').fill(`  ${OWNER.email.toUpperCase()} `);
  await dialog.getByLabel('Role').selectOption({ label: 'Viewer' });
  await dialog.getByRole('button', { name: 'Send invite' }).click();
  await expect(dialog.getByText('Someone with this email is already on the access list.')).toBeVisible();
  await expect(dialog.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  // Nothing chosen is lost: the role picked is still picked.
  await expect(dialog.getByLabel('Role')).toHaveValue('viewer');
  // The message is about what was sent: it goes as soon as the address is edited, and the
  // same refusal shows again when it is sent again.
  await dialog.getByLabel('Email').fill(email('edited'));
  await expect(dialog.getByText('Someone with this email is already on the access list.')).toHaveCount(0);
  await expect(dialog.getByLabel('Email')).not.toHaveAttribute('aria-invalid', 'true');
  await dialog.getByLabel('Email').fill(OWNER.email);
  await dialog.getByRole('button', { name: 'Send invite' }).click();
  await expect(dialog.getByText('Someone with this email is already on the access list.')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
});

test('in the inline role edit, the arrow keys only move; Enter saves', async ({ page }) => {
  test.skip(!jsEnabled(), 'row actions need JavaScript');
  await asOwner(page);
  const address = email('keys');
  await invite(page, address, 'Viewer');
  const r = () => row(page, address);
  await act(r(), 'Edit');
  const select = r().getByRole('combobox', { name: 'Role' });
  await expect(select).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(select).toHaveValue('member');
  await page.keyboard.press('ArrowUp');
  await expect(select).toHaveValue('admin');
  // Nothing was saved on the way.
  await expect(page.getByRole('status')).not.toContainText(`${address} is now`);
  await expect(select).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status')).toContainText(`${address} is now Admin.`);
  await expect(r()).toContainText('Admin');
  await page.reload();
  await hydrated(page);
  await expect(r()).toContainText('Admin');
});

test('the search box takes at most 100 characters', async ({ page }) => {
  await asOwner(page);
  await expect(page.getByRole('searchbox', { name: 'Search users' })).toHaveAttribute('maxlength', '100');
});

test('with JavaScript off, the page says what needs it; with it on, nothing', async ({ page }) => {
  await asOwner(page);
  // A <noscript> note: Playwright's text search skips such elements, so it is found by its class.
  const note = page.locator('.noscript-note');
  if (jsEnabled()) {
    await expect(note).toBeHidden();
  } else {
    await expect(note).toBeVisible();
    await expect(note).toHaveText(/^JavaScript is off: lists, search, filters, sorting and paging work; changes .* need JavaScript\.$/);
  }
});

test('row actions: role changes, suspend, reactivate, resend and delete with confirmation', async ({ page }) => {
  test.skip(!jsEnabled(), 'row actions need JavaScript');
  await asOwner(page);
  const address = email('actions');
  await invite(page, address, 'Viewer');
  const r = () => row(page, address);

  // Resend Invite is offered while invited.
  await act(r(), 'Resend Invite');
  await expect(page.getByRole('status')).toContainText(`A new invite link for ${address} is ready.`);

  // Inline edit: the role cell becomes a select that takes the focus, so the keyboard reaches
  // it at once — Escape cancels; picking saves.
  await act(r(), 'Edit');
  await expect(r().getByRole('combobox', { name: 'Role' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(r().getByRole('combobox', { name: 'Role' })).toHaveCount(0);
  await act(r(), 'Edit');
  await r().getByRole('combobox', { name: 'Role' }).selectOption('member');
  await expect(page.getByRole('status')).toContainText(`${address} is now Member.`);
  await expect(r()).toContainText('Member');

  // Change Role: the dialog with the full dropdown.
  await act(r(), 'Change Role');
  const dialog = page.getByRole('dialog', { name: `Change role of ${address}` });
  await dialog.getByLabel('Role').selectOption('admin');
  await dialog.getByRole('button', { name: 'Save role' }).click();
  await expect(r()).toContainText('Admin');

  // Delete asks first, with the spec's words; Cancel keeps the user.
  await act(r(), 'Delete');
  const confirm = page.getByRole('alertdialog', { name: 'Delete this user?' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(r()).toHaveCount(1);
  await act(r(), 'Delete');
  await page.getByRole('alertdialog', { name: 'Delete this user?' }).getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('The user was deleted.');
  await expect(r()).toHaveCount(0);
});

test('suspending ends access; reactivating restores it; expanding shows details', async ({ page, browser }) => {
  test.skip(!jsEnabled(), 'row actions need JavaScript');
  await asOwner(page);
  const address = email('sus');
  const link = await invite(page, address, 'Member');
  const { context, page: theirs } = await accept(browser, link, 'Sam Stone');

  await page.reload();
  await hydrated(page);
  await act(row(page, address), 'Suspend');
  await expect(row(page, address)).toContainText('suspended');
  // Their open session ends at once.
  await theirs.goto('/dashboard');
  await expect(theirs).toHaveURL(/\/login/);

  await act(row(page, address), 'Reactivate');
  await expect(row(page, address)).toContainText('active');
  await context.close();

  await row(page, address).getByRole('button', { name: /Details for/ }).click();
  await expect(page.getByText('Requests this month')).toBeVisible();
  await expect(page.getByText('No API keys.')).toBeVisible();
  await expect(row(page, address).getByRole('button', { name: /Details for/ })).toHaveAttribute('aria-expanded', 'true');
});

test('a Viewer sees the list but no Invite button and no actions', async ({ page, browser }) => {
  test.skip(!jsEnabled(), 'creating the Viewer uses the invite dialog');
  await asOwner(page);
  const address = email('viewer');
  const link = await invite(page, address, 'Viewer');
  const { context, page: viewer } = await accept(browser, link, 'Vera Viewer');
  await open(viewer, USERS);
  await expect(viewer.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(row(viewer, OWNER.email)).toBeVisible();
  await expect(viewer.getByRole('button', { name: 'Invite User' })).toHaveCount(0);
  await expect(viewer.locator('summary', { hasText: 'Actions' })).toHaveCount(0);
  for (const action of ['Edit', 'Change Role', 'Change Team', 'Suspend', 'Reactivate', 'Resend Invite', 'Delete']) {
    await expect(viewer.getByRole('button', { name: action, exact: true })).toHaveCount(0);
  }
  await context.close();
});
