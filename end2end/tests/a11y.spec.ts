// Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules) on every page and every dialog, in the
// light and the dark colour scheme. A serious or critical violation fails the test; each one is
// listed with its rule, impact and the elements it was found on. Hydrated only: axe runs as a
// script in the page, which the no-js project turns off (and the server renders the same markup).
// A11Y_VERBOSE=1 also prints moderate and minor violations, and what axe could not decide.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { OWNER, asOwner, hydrated, invite, open, signIn } from './helpers';

const USERS = '/dashboard/configuration/users';
const TEAMS = '/dashboard/configuration/teams';
const KEYS = '/dashboard/keys';
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING = new Set(['serious', 'critical']);

test.skip(({ javaScriptEnabled }) => javaScriptEnabled === false, 'axe needs JavaScript in the page');
// Each check runs axe twice (light and dark), about a second each.
test.describe.configure({ timeout: 120_000 });

/**
 * Runs axe on the page as it is now, once in the light and once in the dark colour scheme, and
 * records each serious or critical violation as a soft failure (so one run lists every page's).
 */
async function audit(page: Page, what: string) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // Colours change with a short CSS transition; let it finish before measuring contrast.
    await page.evaluate(() =>
      Promise.race([
        // A transition cut short rejects its `finished`: that is finished too.
        Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))),
        new Promise((resolve) => setTimeout(resolve, 1_000)),
      ]),
    );
    const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
    const found = results.violations
      .filter((v) => BLOCKING.has(v.impact ?? ''))
      .flatMap((v) =>
        v.nodes.map((n) => {
          const target = n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' ');
          const detail = n.any.find((c) => c.id === 'color-contrast')?.message ?? '';
          return `${v.id} (${v.impact}) ${target}${detail ? ` — ${detail}` : ''}`;
        }),
      );
    if (found.length) {
      await test.info().attach(`axe ${what} (${scheme})`, {
        body: JSON.stringify(results.violations, null, 2),
        contentType: 'application/json',
      });
    }
    if (process.env.A11Y_VERBOSE) {
      for (const [kind, list] of [['violation', results.violations], ['undecided', results.incomplete]] as const) {
        for (const v of list) {
          for (const n of v.nodes) {
            console.log(`[${scheme}] ${what}: ${kind} ${v.id} (${v.impact}) ${n.target.join(' ')} ${n.any[0]?.message ?? ''}`);
          }
        }
      }
    }
    expect.soft(found, `axe: ${what}, ${scheme} scheme`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A unique email per project and test run. */
function email(tag: string) {
  return `${tag}-${test.info().project.name}-${Date.now()}@example.com`;
}

function row(page: Page, text: string) {
  return page.getByRole('row').filter({ hasText: text });
}

async function openMenu(page: Page, text: string) {
  await row(page, text).locator('summary', { hasText: 'Actions' }).click();
}

async function accept(browser: Browser, link: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await open(page, link);
  await expect(page.getByRole('heading', { name: 'Join this gateway' })).toBeVisible();
  await audit(page, 'accept-invite page');
  await page.getByLabel('Your name').fill('Axel Auditor');
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Accept invite' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await context.close();
}

test('the signed-out pages', async ({ page }) => {
  await open(page, '/login');
  await audit(page, 'sign-in page');
  // An address nobody has: a failure against the Owner would count towards their sign-in
  // throttle, which the auth tests run into.
  await signIn(page, 'a11y-nobody@example.com', 'not the password at all');
  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await audit(page, 'sign-in page with an error');

  await open(page, '/setup?token=not-a-real-token');
  await expect(page.getByRole('heading', { name: 'This setup link is no longer valid' })).toBeVisible();
  await audit(page, 'spent setup link page');

  await open(page, '/invite/not-a-real-token');
  await expect(page.getByRole('heading', { name: 'This invite cannot be used' })).toBeVisible();
  await audit(page, 'unusable invite page');

  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await hydrated(page);
  await audit(page, 'not-found page');
});

test('the Billing page, and with a field in error', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/billing');
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  await audit(page, 'Billing page');
  await page.getByLabel('Monthly limit for the whole gateway (USD)').fill('-1');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByLabel('Monthly limit for the whole gateway (USD)')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'Billing page with an error');
});

test('the Single sign-on page, and with a field in error', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/sso');
  await expect(page.getByRole('heading', { level: 1, name: 'Single sign-on' })).toBeVisible();
  await audit(page, 'Single sign-on page');
  // Plain http to a host that is not this machine is refused by the server (nothing is saved).
  await page.getByLabel('Issuer URL').fill('http://login.example.com');
  await page.getByLabel('Client id').fill('tollgate');
  await page.getByLabel('Button label').fill('Okta');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByLabel('Issuer URL')).toHaveAttribute('aria-invalid', 'true');
  // What was typed stays, to be corrected.
  await expect(page.getByLabel('Client id')).toHaveValue('tollgate');
  await audit(page, 'Single sign-on page with an error');
});

test('the Providers page, and its Add dialog with a field in error', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/providers');
  await expect(page.getByRole('heading', { level: 1, name: 'Providers' })).toBeVisible();
  await audit(page, 'Providers page');
  await page.getByRole('button', { name: 'Add provider' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a provider' });
  await dialog.getByLabel('Name').fill('stub');
  await dialog.getByLabel('Base URL').fill('http://127.0.0.1:9/v1');
  await dialog.getByRole('button', { name: 'Add provider' }).click();
  await expect(dialog.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'Add provider dialog with an error');
});

test('the Guardrails page, and its Add dialog with a field in error', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/guardrails');
  await expect(page.getByRole('heading', { level: 1, name: 'Guardrails' })).toBeVisible();
  await audit(page, 'Guardrails page');
  await page.getByRole('button', { name: 'Add guardrail' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a guardrail' });
  await dialog.getByLabel('Name').fill('Empty');
  await dialog.getByRole('button', { name: 'Add guardrail' }).click();
  await expect(dialog.getByLabel('Terms, one per line')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'Add guardrail dialog with an error');
});

test('the Routes page, and its Add dialog with a field in error', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/routes');
  await expect(page.getByRole('heading', { level: 1, name: 'Routes' })).toBeVisible();
  await audit(page, 'Routes page');
  await page.getByRole('button', { name: 'Add route' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a route' });
  await dialog.getByLabel('Model name clients ask for').fill('a11y-route');
  await dialog.getByLabel('Provider', { exact: true }).selectOption({ label: 'stub' });
  await dialog.getByLabel('Input $ per Mtok').fill('-1');
  await dialog.getByRole('button', { name: 'Add route' }).click();
  await expect(dialog.getByLabel('Input $ per Mtok')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'Add route dialog with an error');
});

test('the Usage page, grouped and with its figures open', async ({ page }) => {
  await asOwner(page, '/dashboard');
  await expect(page.getByRole('heading', { level: 1, name: 'Usage' })).toBeVisible();
  await audit(page, 'Usage page');
  await asOwner(page, '/dashboard?range=90d&group=key');
  for (const summary of await page.locator('.chart-figures summary').all()) await summary.click();
  await audit(page, 'Usage page by key, figures open');
});

test('the Users page, its menus, expanded row and dialogs, and the accept-invite page', async ({ page, browser }) => {
  await asOwner(page, USERS);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await audit(page, 'Users page');

  // The invite dialog: empty, refusing a duplicate, and showing the link.
  await page.getByRole('button', { name: 'Invite User' }).click();
  const invite = page.getByRole('dialog', { name: 'Invite a user' });
  await expect(invite).toBeVisible();
  await audit(page, 'Invite dialog');
  await invite.getByLabel('Email').fill(OWNER.email);
  await invite.getByRole('button', { name: 'Send invite' }).click();
  await expect(invite.getByText('Someone with this email is already on the access list.')).toBeVisible();
  await audit(page, 'Invite dialog with an error');
  const address = email('a11y');
  await invite.getByLabel('Email').fill(address);
  await invite.getByRole('button', { name: 'Send invite' }).click();
  await expect(invite.getByText(`${address} is invited as Member.`)).toBeVisible();
  await audit(page, 'Invite dialog with the link');
  const link = await invite.getByLabel('Invite link').inputValue();
  await invite.getByRole('button', { name: 'Done' }).click();
  await expect(invite).toHaveCount(0);

  await accept(browser, link);
  await page.reload();
  await hydrated(page);
  await expect(row(page, address)).toContainText('active');

  // The row's Actions menu, the inline role editor, and each dialog it opens.
  await openMenu(page, address);
  await expect(row(page, address).getByRole('button', { name: 'Change Role', exact: true })).toBeVisible();
  await audit(page, 'Users row Actions menu');
  await row(page, address).getByRole('button', { name: 'Edit', exact: true }).click();
  await expect(row(page, address).getByRole('combobox', { name: 'Role' })).toBeVisible();
  await audit(page, 'Users row inline role editor');
  await row(page, address).getByRole('combobox', { name: 'Role' }).press('Escape');
  await expect(row(page, address).getByRole('combobox', { name: 'Role' })).toHaveCount(0);

  for (const [action, name] of [
    ['Change Role', `Change role of ${address}`],
    ['Change Team', `Change team of ${address}`],
  ]) {
    await openMenu(page, address);
    await row(page, address).getByRole('button', { name: action, exact: true }).click();
    const dialog = page.getByRole('dialog', { name });
    await expect(dialog).toBeVisible();
    await audit(page, `${action} dialog`);
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
  }

  await openMenu(page, address);
  await row(page, address).getByRole('button', { name: 'Suspend', exact: true }).click();
  await expect(row(page, address)).toContainText('suspended');
  await audit(page, 'Users page with a suspended user');

  await row(page, address).getByRole('button', { name: /Details for/ }).click();
  await expect(page.getByText('Requests this month')).toBeVisible();
  await audit(page, 'Users page with an expanded row');

  const danger = page.getByRole('alertdialog', { name: 'Delete the access list?' });
  await page.getByRole('button', { name: 'Delete access list…' }).click();
  await expect(danger).toBeVisible();
  await audit(page, 'Delete access list dialog');
  await danger.getByRole('button', { name: 'Cancel' }).click();
  await expect(danger).toHaveCount(0);

  // The delete confirmation, then delete for real so the run leaves nothing behind.
  await openMenu(page, address);
  await row(page, address).getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Delete this user?' });
  await expect(confirm).toBeVisible();
  await audit(page, 'Delete user dialog');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('The user was deleted.');
  await audit(page, 'Users page with a notice');
});

test('the Teams page, its expanded row and dialogs', async ({ page }) => {
  await asOwner(page, TEAMS);
  await expect(page.getByRole('heading', { level: 1, name: 'Teams' })).toBeVisible();
  await audit(page, 'Teams page');

  const name = `A11y ${test.info().project.name} ${Date.now()}`;
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await expect(create).toBeVisible();
  await audit(page, 'Create team dialog');
  await create.getByLabel('Team Name').fill(name);
  await create.getByLabel('Monthly Spend Limit (USD)').fill('-5');
  await expect(create.getByText('The amount cannot be negative.')).toBeVisible();
  await audit(page, 'Create team dialog with an error');
  await create.getByLabel('Monthly Spend Limit (USD)').fill('100');
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);

  const r = row(page, name);
  await r.getByRole('button', { name: `Details for ${name}` }).click();
  const members = page.locator('.detail-row').filter({ hasText: 'Members' });
  await expect(members).toBeVisible();
  await audit(page, 'Teams page with an expanded row');

  // A member with a budget bar, and the dialog that sets their own budget.
  const address = `a11y-budget-${Date.now()}@example.com`;
  await invite(page, address);
  await page.goto(`${TEAMS}?q=${encodeURIComponent(name)}`);
  await hydrated(page);
  await r.getByRole('button', { name: `Details for ${name}` }).click();
  await members.getByLabel('Add a member by email').fill(address);
  await members.getByRole('button', { name: 'Add', exact: true }).click();
  const member = members.locator('.member').filter({ hasText: address });
  await member.getByRole('button', { name: `Budget of ${address}` }).click();
  const budget = page.getByRole('dialog', { name: `Budget of ${address}` });
  await budget.getByLabel('Their monthly budget (USD)').fill('12');
  await budget.getByRole('button', { name: 'Save budget' }).click();
  await expect(member).toContainText('$0.00 of $12.00');
  await audit(page, 'Teams page with a member budget');
  await member.getByRole('button', { name: `Budget of ${address}` }).click();
  await budget.getByLabel('Their monthly budget (USD)').fill('x');
  await budget.getByRole('button', { name: 'Save budget' }).click();
  await expect(budget.getByLabel('Their monthly budget (USD)')).toHaveAttribute('aria-invalid', 'true');
  await audit(page, 'Member budget dialog with an error');
  await page.keyboard.press('Escape');
  await expect(budget).toHaveCount(0);

  await r.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('dialog', { name: `Edit ${name}` });
  await expect(edit).toBeVisible();
  await audit(page, 'Edit team dialog');
  await page.keyboard.press('Escape');
  await expect(edit).toHaveCount(0);

  await r.getByRole('button', { name: `Delete ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Delete team ‘${name}’?` });
  await expect(confirm).toBeVisible();
  await audit(page, 'Delete team dialog');
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(r).toHaveCount(0);
});

test('the API keys page and its dialogs', async ({ page }) => {
  await asOwner(page, KEYS);
  await expect(page.getByRole('heading', { level: 1, name: 'API keys' })).toBeVisible();
  await audit(page, 'API keys page');

  const name = `a11y-${Date.now()}`;
  await page.getByRole('button', { name: 'Create key' }).click();
  const issue = page.getByRole('dialog', { name: 'Create an API key' });
  await expect(issue).toBeVisible();
  await audit(page, 'Create key dialog');
  await issue.getByLabel('Name').fill(name);
  await issue.getByRole('button', { name: 'Create key' }).click();
  await expect(issue.getByText('Copy this key now.')).toBeVisible();
  await audit(page, 'Create key dialog showing the key');
  await issue.getByRole('button', { name: 'Done' }).click();
  await expect(issue).toHaveCount(0);

  await row(page, name).getByRole('button', { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Revoke key ‘${name}’?` });
  await expect(confirm).toBeVisible();
  await audit(page, 'Revoke key dialog');
  await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(row(page, name)).toContainText('revoked');

  await open(page, `${KEYS}?scope=all&status=revoked`);
  await audit(page, 'API keys page, all keys, revoked');
});

test('the audit log page', async ({ page }) => {
  await asOwner(page, '/dashboard/configuration/audit');
  await hydrated(page);
  await audit(page, 'Audit log page');
});

test('the Limits dialog of a key, with an error', async ({ page }) => {
  await asOwner(page, KEYS);
  await hydrated(page);
  await page.getByRole('button', { name: 'Create key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create an API key' });
  const name = `a11y-limits-${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByText('Limits (optional)').click();
  await audit(page, 'Create key dialog with its limits open');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: `Limits of ${name}` }).click();
  const limits = page.getByRole('dialog', { name: `Limits of ‘${name}’` });
  await limits.getByLabel('Requests per minute (optional)').fill('-1');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await expect(limits.getByText('Enter a whole number from 1 to 1,000,000')).toBeVisible();
  await audit(page, 'Limits dialog with an error');
});
