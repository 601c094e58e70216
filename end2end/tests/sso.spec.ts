// Single sign-on through a real OpenID Connect provider on loopback (tools/oidc-provider.mjs, the
// `oidc-provider` package; its development form takes any login, which becomes the email). The
// Owner sets it up on its page (Test runs discovery; a mapping to Owner is refused); then people
// sign in through the provider: someone new is created as the settings say, an invited Viewer
// accepts their invite, a group makes an Admin — and the refusals read their words: a suspended
// person, nobody invited, a cancel at the provider, an unverified email, a domain not allowed, a
// callback the browser did not start, a provider that cannot be reached.
// Last, password sign-in goes off (only once the Owner has signed in this way: the form goes and
// the server function answers 403) and back on, and single sign-on is turned off, so the other
// specs find passwords only. Hydrated only, in order (each test builds on the last); every
// person has a browser context of their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { OWNER, asOwner, hydrated, jsEnabled, open, signIn } from './helpers';

const SSO = '/dashboard/configuration/sso';
const USERS = '/dashboard/configuration/users';
const LABEL = 'Test IdP';
const SECRET = 'tollgate-e2e-client-secret';
const stamp = Date.now();
const TEAM = `SSO people ${stamp}`;
/** Local parts become names at the provider: new.person.123@… is "New Person 123". */
const NEW_PERSON = { email: `new.person.${stamp}@example.com`, name: `New Person ${stamp}` };
const INVITED = { email: `grace.hopper.${stamp}@example.com`, name: `Grace Hopper ${stamp}` };
/** Logins starting with `admin` are in the provider's `gateway-admins` group. */
const ADMIN = { email: `admin.ops.${stamp}@example.com`, name: `Admin Ops ${stamp}` };

/** The words a refused single sign-on lands on `/login` with, by `sso_error` code. */
const REFUSED = {
  domain: "Your email address's domain is not allowed to sign in to this gateway.",
  unknown: 'You do not have an account on this gateway yet: ask an Admin to invite you.',
  suspended: 'Email or password is incorrect.',
  unverified: 'Your identity provider has not verified your email address, so it cannot sign you in here.',
  cancelled: 'Sign-in was cancelled.',
  unreachable: 'Your identity provider could not be reached. Please try again in a moment.',
  failed: 'Single sign-on did not complete. Please try again.',
};

let provider: ChildProcess | undefined;
/** The provider's issuer, `http://127.0.0.1:PORT`. */
let issuer = '';
/** Tollgate's base URL, which is also its public URL. */
let tollgate = '';

test.describe.configure({ mode: 'serial', timeout: 60_000 });
test.skip(({ javaScriptEnabled }) => !javaScriptEnabled, 'the settings form and dialogs need JavaScript; one run covers it');

test.beforeAll(async () => {
  // The no-js run skips every test here: it starts no provider, so nothing can fail before a skip.
  if (!jsEnabled()) return;
  tollgate = test.info().project.use.baseURL!;
  const tool = join(test.info().project.testDir, '..', 'tools', 'oidc-provider.mjs');
  const child = spawn(process.execPath, [tool, '--port=0', `--tollgate=${tollgate}`, `--secret=${SECRET}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  provider = child;
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    // What went wrong at the provider shows with the test; its start-up warnings do not.
    for (const line of chunk.toString().split('\n')) {
      if (line && !line.includes('WARNING')) process.stderr.write(`${line}\n`);
    }
  });
  issuer = await new Promise<string>((resolve, reject) => {
    // Node loads the provider and makes an RSA key: seconds on a busy 2-core machine, so wait long.
    const timer = setTimeout(() => reject(new Error(`the provider printed no ready line within 45 s:\n${output}`)), 45_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.match(/oidc-provider ready: (\S+)/);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the provider exited with ${code}:\n${output}`));
    });
  });
});

test.afterAll(async ({ browser }) => {
  if (!jsEnabled()) return;
  try {
    await turnOffIfOn(browser);
  } finally {
    if (provider && provider.exitCode === null) {
      const exited = new Promise((r) => provider!.once('exit', r));
      provider.kill('SIGTERM');
      await exited;
    }
  }
});

/** A browser context of someone's own. */
async function someone(browser: Browser) {
  const context = await browser.newContext({ baseURL: tollgate });
  // The provider's development pages import a web font; the tests reach nothing off this machine.
  await context.route('https://fonts.googleapis.com/**', (route) => route.abort());
  return { context, page: await context.newPage() };
}

/** From Tollgate's sign-in page (with `next`), the single sign-on button, then the provider's
 *  form as `login` (any password does). Leaves the browser wherever Tollgate sends it. */
async function signInWithSso(page: Page, login: string, next?: string) {
  await open(page, next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  const button = page.locator('a.sso-button');
  await expect(button).toHaveText(`Sign in with ${LABEL}`);
  await button.click();
  await atProvider(page);
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

async function atProvider(page: Page) {
  await expect(page).toHaveURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
}

/** Signed in by single sign-on: on the dashboard, with this name and role in the banner. */
async function landed(page: Page, name: string, role: string) {
  await expect(page).toHaveURL(/\/dashboard$/);
  await hydrated(page);
  const banner = page.getByRole('banner');
  await expect(banner.getByText(name)).toBeVisible();
  await expect(banner.getByText(role, { exact: true })).toBeVisible();
}

/** Back on the sign-in page with the refusal's words, signed in as nobody. */
async function refused(page: Page, code: keyof typeof REFUSED) {
  await expect(page).toHaveURL(new RegExp(`/login\\?sso_error=${code}$`));
  await expect(page.getByRole('alert')).toHaveText(REFUSED[code]);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=/);
}

/** Signs in with the provider as `login` in a context of their own, which is closed after. */
async function signInElsewhere(browser: Browser, login: string, check: (page: Page) => Promise<void>) {
  const { context, page } = await someone(browser);
  try {
    await signInWithSso(page, login);
    await check(page);
  } finally {
    await context.close();
  }
}

/** The Users page searched for `email`, and that person's row. */
async function userRow(page: Page, email: string) {
  await open(page, `${USERS}?q=${encodeURIComponent(email)}`);
  return page.getByRole('row').filter({ hasText: email });
}

/** The Users page lists `email` with this role and status. */
async function listed(page: Page, email: string, role: string, status: string) {
  const row = await userRow(page, email);
  await expect(row.locator('.role-badge')).toHaveText(role);
  await expect(row.locator('.status')).toHaveText(status);
  return row;
}

/** The error under a field of the settings form. */
function errorUnder(page: Page, field: string) {
  return page.locator('.field', { has: page.locator(field) }).locator('.field-error');
}

async function saveSettings(page: Page) {
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Single sign-on settings saved.')).toBeVisible();
}

/** Posts email and password to the sign-in server function as the hydrated app does. */
function passwordSignIn(request: APIRequestContext) {
  return request.post('/api/sign_in', {
    form: { email: OWNER.email, password: OWNER.password },
    headers: { accept: 'application/json' },
    maxRedirects: 0,
  });
}

/** A loopback port nothing listens on (one that was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Leaves single sign-on off, whatever a failed test left: the Owner signs in with a password,
 *  or through the provider while passwords are off. */
async function turnOffIfOn(browser: Browser) {
  const { context, page } = await someone(browser);
  try {
    await open(page, `/login?next=${encodeURIComponent(SSO)}`);
    if ((await page.locator('a.sso-button').count()) === 0) return;
    if ((await page.locator('input[name=password]').count()) > 0) await signIn(page, OWNER.email, OWNER.password);
    else await signInWithSso(page, OWNER.email, SSO);
    await expect(page).toHaveURL(new RegExp(`${SSO}$`));
    await hydrated(page);
    await page.getByRole('button', { name: 'Turn off single sign-on…' }).click();
    await page.getByRole('button', { name: 'Turn off', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Turn off single sign-on…' })).toHaveCount(0);
  } finally {
    await context.close();
  }
}

test('the Owner sets single sign-on up: Test runs discovery, and the settings save', async ({ page, browser }) => {
  // A team for the people single sign-on creates.
  await asOwner(page, '/dashboard/configuration/teams');
  await page.getByRole('button', { name: 'Create Team' }).click();
  const create = page.getByRole('dialog', { name: 'Create a team' });
  await create.getByLabel('Team Name').fill(TEAM);
  await create.getByRole('button', { name: 'Create team' }).click();
  await expect(create).toHaveCount(0);

  await open(page, SSO);
  await expect(page.getByLabel('Redirect URI')).toHaveValue(`${tollgate}/auth/sso/callback`);

  // Test runs discovery at the issuer as typed: nothing there, then the provider.
  const testButton = page.getByRole('button', { name: 'Test', exact: true });
  await page.locator('#field-issuer').fill(`${issuer}/nothing-here`);
  await testButton.click();
  await expect(page.getByText(/^Discovery failed: /)).toBeVisible();
  await page.locator('#field-issuer').fill(issuer);
  await testButton.click();
  await expect(page.getByText('Discovery works.')).toBeVisible();
  const found = page.locator('.sso-test');
  await expect(found).toContainText(`${issuer}/auth`);
  await expect(found).toContainText(`${issuer}/token`);

  await page.locator('#field-client_id').fill('tollgate');
  await page.locator('#field-client_secret').fill(SECRET);
  await page.locator('#field-label').fill(LABEL);
  await page.locator('#field-new_people').selectOption('member');
  await page.locator('#field-new_people_team').selectOption({ label: TEAM });
  await page.locator('#field-groups_claim').fill('groups');
  await page.locator('#field-group_roles').fill('gateway-admins = Admin');
  await saveSettings(page);

  // Saved as typed; the secret is never shown again.
  await open(page, SSO);
  await expect(page.locator('#field-issuer')).toHaveValue(issuer);
  await expect(page.locator('#field-client_id')).toHaveValue('tollgate');
  await expect(page.locator('#field-client_secret')).toHaveValue('');
  await expect(page.locator('#field-label')).toHaveValue(LABEL);
  await expect(page.locator('#field-new_people')).toHaveValue('member');
  await expect(page.locator('#field-new_people_team option:checked')).toHaveText(TEAM);
  await expect(page.locator('#field-groups_claim')).toHaveValue('groups');
  await expect(page.locator('#field-group_roles')).toHaveValue(/^\s*gateway-admins\s*=\s*Admin\s*$/);
  await expect(page.locator('input[name=password_sign_in]')).toBeChecked();

  // A claim never makes an Owner: refused under the field, and nothing is saved.
  await page.locator('#field-group_roles').fill('gateway-admins = Owner');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(errorUnder(page, '#field-group_roles')).toContainText('Owner is never given by a claim');
  await open(page, SSO);
  await expect(page.locator('#field-group_roles')).toHaveValue(/^\s*gateway-admins\s*=\s*Admin\s*$/);

  // The sign-in page offers it, beside the password form.
  const { context, page: visitor } = await someone(browser);
  await open(visitor, '/login');
  await expect(visitor.locator('a.sso-button')).toHaveText(`Sign in with ${LABEL}`);
  await expect(visitor.locator('a.sso-button')).toHaveAttribute('href', /^\/auth\/sso\/start/);
  await expect(visitor.locator('input[name=password]')).toBeVisible();
  await context.close();
});

test('someone new signs in through the provider and is created as a Member of the chosen team', async ({ page, browser }) => {
  await signInElsewhere(browser, NEW_PERSON.email, (theirs) => landed(theirs, NEW_PERSON.name, 'Member'));

  await asOwner(page, USERS);
  const row = await listed(page, NEW_PERSON.email, 'Member', 'active');
  await expect(row).toContainText(NEW_PERSON.name);
  await expect(row).toContainText(TEAM);
});

test('an invited Viewer signs in with single sign-on and lands with their invite’s role', async ({ page, browser }) => {
  await asOwner(page, USERS);
  await page.getByRole('button', { name: 'Invite User' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite a user' });
  await dialog.getByLabel('Email').fill(INVITED.email);
  await dialog.getByLabel('Role').selectOption({ label: 'Viewer' });
  await dialog.getByRole('button', { name: 'Send invite' }).click();
  await expect(dialog.getByText(`${INVITED.email} is invited as Viewer.`)).toBeVisible();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await listed(page, INVITED.email, 'Viewer', 'invited');

  // New people would be Members: the invite decides.
  await signInElsewhere(browser, INVITED.email, (theirs) => landed(theirs, INVITED.name, 'Viewer'));

  const row = await listed(page, INVITED.email, 'Viewer', 'active');
  await expect(row).toContainText(INVITED.name);
  await expect(row).not.toContainText('pending');
});

test('the gateway-admins group makes someone new an Admin', async ({ page, browser }) => {
  await signInElsewhere(browser, ADMIN.email, (theirs) => landed(theirs, ADMIN.name, 'Admin'));

  await asOwner(page, USERS);
  await listed(page, ADMIN.email, 'Admin', 'active');
});

test('a suspended person is refused with the password page’s words', async ({ page, browser }) => {
  await asOwner(page, USERS);
  const row = await userRow(page, NEW_PERSON.email);
  await row.locator('summary', { hasText: 'Actions' }).click();
  await row.getByRole('button', { name: 'Suspend', exact: true }).click();
  await expect(row.locator('.status')).toHaveText('suspended');

  await signInElsewhere(browser, NEW_PERSON.email, (theirs) => refused(theirs, 'suspended'));
});

test('with new people refused, someone nobody invited is told to ask for an invite', async ({ page, browser }) => {
  await asOwner(page, SSO);
  await page.locator('#field-new_people').selectOption('refuse');
  await saveSettings(page);

  const stranger = `stranger.${stamp}@example.com`;
  await signInElsewhere(browser, stranger, (theirs) => refused(theirs, 'unknown'));
  await userRow(page, stranger);
  await expect(page.getByText('No users match this search.')).toBeVisible();
});

test('cancelling at the provider comes back as a cancelled sign-in', async ({ browser }) => {
  const { context, page } = await someone(browser);
  await open(page, '/login');
  await page.locator('a.sso-button').click();
  await atProvider(page);
  await page.getByRole('link', { name: '[ Cancel ]' }).click();
  await refused(page, 'cancelled');
  await context.close();
});

test('an email the provider has not verified is refused', async ({ browser }) => {
  await signInElsewhere(browser, `unverified.${stamp}@example.com`, (theirs) => refused(theirs, 'unverified'));
});

test('with allowed domains set, an address at another domain is refused', async ({ page, browser }) => {
  await asOwner(page, SSO);
  await page.locator('#field-allowed_domains').fill('example.com');
  await saveSettings(page);

  const eve = `eve.${stamp}@other.test`;
  await signInElsewhere(browser, eve, (theirs) => refused(theirs, 'domain'));
  await userRow(page, eve);
  await expect(page.getByText('No users match this search.')).toBeVisible();
});

test('a callback this browser did not start is refused', async ({ browser }) => {
  const { context, page } = await someone(browser);
  await page.goto('/auth/sso/callback?code=forged&state=forged');
  await refused(page, 'failed');
  await context.close();
});

test('a provider that cannot be reached is said to be so', async ({ page, browser }) => {
  await asOwner(page, SSO);
  await page.locator('#field-issuer').fill(`http://127.0.0.1:${await closedPort()}`);
  await saveSettings(page);

  const { context, page: theirs } = await someone(browser);
  await open(theirs, '/login');
  await theirs.locator('a.sso-button').click();
  await refused(theirs, 'unreachable');
  await context.close();

  // Back to the provider.
  await open(page, SSO);
  await page.locator('#field-issuer').fill(issuer);
  await saveSettings(page);
});

test('password sign-in goes off only once the Owner has signed in this way, then back on', async ({ page, browser, request }) => {
  // The server function takes a password to begin with.
  expect((await passwordSignIn(request)).status()).toBe(200);

  // An Owner who has never used single sign-on cannot turn passwords off.
  await asOwner(page, SSO);
  const passwords = page.locator('input[name=password_sign_in]');
  await passwords.uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(errorUnder(page, 'input[name=password_sign_in]')).toHaveText(
    `Sign in with ${LABEL} yourself first, so nobody is locked out when passwords stop working.`,
  );

  // The Owner signs in through the provider (their account is linked), and turns passwords off.
  const { context, page: owner } = await someone(browser);
  await signInWithSso(owner, OWNER.email, SSO);
  await expect(owner).toHaveURL(new RegExp(`${SSO}$`));
  await hydrated(owner);
  await expect(owner.getByRole('banner').getByText(OWNER.name)).toBeVisible();
  await owner.locator('input[name=password_sign_in]').uncheck();
  await saveSettings(owner);

  // Someone else sees the button and no password form; the server function refuses.
  const { context: other, page: visitor } = await someone(browser);
  await open(visitor, '/login');
  await expect(visitor.locator('a.sso-button')).toHaveText(`Sign in with ${LABEL}`);
  await expect(visitor.locator('input[name=password]')).toHaveCount(0);
  expect((await passwordSignIn(request)).status()).toBe(403);

  // Back on, by the Owner signed in with single sign-on.
  await open(owner, SSO);
  await expect(owner.locator('input[name=password_sign_in]')).not.toBeChecked();
  await owner.locator('input[name=password_sign_in]').check();
  await saveSettings(owner);
  await open(visitor, '/login');
  await expect(visitor.locator('input[name=password]')).toBeVisible();
  expect((await passwordSignIn(request)).status()).toBe(200);
  await other.close();
  await context.close();
});

test('turning single sign-on off leaves the sign-in page with passwords only', async ({ page, browser }) => {
  await asOwner(page, SSO);
  await page.getByRole('button', { name: 'Turn off single sign-on…' }).click();
  await page.getByRole('button', { name: 'Turn off', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Turn off single sign-on…' })).toHaveCount(0);

  const { context, page: visitor } = await someone(browser);
  await open(visitor, '/login');
  await expect(visitor.locator('input[name=password]')).toBeVisible();
  await expect(visitor.locator('a.sso-button')).toHaveCount(0);
  await context.close();
});
