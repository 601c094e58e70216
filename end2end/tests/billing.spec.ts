// Billing (/dashboard/configuration/billing), Owners only: the settings form, the statement and
// its CSV, and the alerts. The alerts run against a second gateway of their own, started here
// with a mail server (alert-sink.ts) — the suite's gateway has none, so its invites show links.
import { expect, test } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { startAlertSink, type AlertSink } from '../alert-sink';
import { port } from '../playwright.config';
import { startTollgate, type Running } from '../tollgate';
import { asOwner, hydrated, jsEnabled } from './helpers';

const BILLING = '/dashboard/configuration/billing';

test('the Billing page works without JavaScript: settings save, the month is a link', async ({ page }) => {
  await asOwner(page, BILLING);
  await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
  const field = page.getByLabel('Default limit for new teams (USD a month)');
  await field.fill('7.50');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(async () => {
    await page.goto(BILLING);
    await expect(page.getByLabel('Default limit for new teams (USD a month)')).toHaveValue('7.50', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await hydrated(page);
  // Back as it was, for the other tests' new teams.
  await page.getByLabel('Default limit for new teams (USD a month)').fill('');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(async () => {
    await page.goto(BILLING);
    await expect(page.getByLabel('Default limit for new teams (USD a month)')).toHaveValue('', { timeout: 500 });
  }).toPass({ timeout: 10_000 });

  // The statement's month is a GET form: the choice is in the URL.
  const month = page.getByLabel('Month');
  const options = await month.locator('option').allTextContents();
  expect(options.length).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/\?month=\d{4}-\d{2}$/);
  await expect(page.getByRole('link', { name: 'Export CSV' })).toHaveAttribute(
    'href',
    /\/dashboard\/configuration\/billing\/statement\.csv\?month=\d{4}-\d{2}$/,
  );
});

test.describe('budget alerts', () => {
  let sink: AlertSink;
  let gateway: Running;
  const base = `http://127.0.0.1:${port + 1}`;

  test.beforeAll(async () => {
    if (!jsEnabled()) return;
    sink = await startAlertSink();
    gateway = await startTollgate(port + 1, { TOLLGATE_SMTP_URL: sink.smtpUrl, TOLLGATE_PUBLIC_URL: base });
  });
  test.afterAll(async () => {
    await gateway?.stop();
    await sink?.stop();
  });

  test('a team crossing 90 % is emailed and posted once, then its limit once, and the gateway limit refuses with 402', async ({ browser }) => {
    test.skip(!jsEnabled(), 'the Create key dialog needs JavaScript');
    test.setTimeout(90_000);
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await page.goto(gateway.link);
    await hydrated(page);
    await page.getByLabel('Your name').fill('Bea Billing');
    await page.getByLabel('Email').fill('bea@example.com');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create Owner account' }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await hydrated(page);

    // The Owner's menu has Billing; alerts go to an address and the webhook.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Billing' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Billing' })).toBeVisible();
    await hydrated(page);
    await expect(page.getByText('Sent through the mail server in TOLLGATE_SMTP_URL.')).toBeVisible();
    await page.getByLabel('Email addresses').fill('alerts@example.com');
    await page.getByLabel('Webhook URL').fill(sink.hookUrl);
    await page.getByLabel('Default limit for new teams (USD a month)').fill('2.20');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Billing settings saved.')).toBeVisible();
    const secret = await page.getByLabel('Webhook signing key').inputValue();
    expect(secret).toMatch(/^whsec_/);

    // A bad address is named next to its field and nothing is saved.
    await page.getByLabel('Email addresses').fill('alerts@example.com\nnot-an-address');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('‘not-an-address’: Enter an email address like name@example.com.')).toBeVisible();
    await expect(page.getByLabel('Email addresses')).toHaveAttribute('aria-invalid', 'true');
    await page.reload();
    await expect(page.getByLabel('Email addresses')).toHaveValue('alerts@example.com');

    // The test-send reaches both.
    await hydrated(page);
    await page.getByRole('button', { name: 'Send a test alert' }).click();
    await expect(page.getByText('Email: sent.')).toBeVisible();
    await expect(page.getByText('Webhook: sent.')).toBeVisible();
    expect(sink.mails).toHaveLength(1);
    expect(sink.mails[0].data).toContain('[Test]');
    expect(JSON.parse(sink.posted[0].body).type).toBe('budget.test');
    sink.mails.length = 0;
    sink.posted.length = 0;

    // A new team is proposed the default limit; this one takes $1.20.
    await page.getByRole('link', { name: 'Teams' }).click();
    await hydrated(page);
    await page.getByRole('button', { name: 'Create Team' }).click();
    const create = page.getByRole('dialog', { name: 'Create a team' });
    await expect(create.getByLabel('Monthly Spend Limit (USD)')).toHaveValue('2.20');
    await create.getByLabel('Team Name').fill('Alerting');
    await create.getByLabel('Monthly Spend Limit (USD)').fill('1.20');
    await create.getByRole('button', { name: 'Create team' }).click();
    await expect(create).toBeHidden();

    const secretOf = async (name: string, team?: string) => {
      await page.getByRole('link', { name: 'API keys' }).click();
      await hydrated(page);
      await page.getByRole('button', { name: 'Create key' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create an API key' });
      await dialog.getByLabel('Name').fill(name);
      if (team) await dialog.getByLabel('Team').selectOption({ label: team });
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const key = await dialog.getByLabel('API key').inputValue();
      await dialog.getByRole('button', { name: 'Done' }).click();
      return key;
    };
    const teamKey = await secretOf('alerting-bot', 'Alerting');
    const chat = (key: string) =>
      page.request.post('/v1/chat/completions', {
        headers: { authorization: `Bearer ${key}` },
        data: { model: 'e2e-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10 },
      });
    // $1.10 of $1.20: past 70 % and 90 % at once — one alert, for 90 %. The next request's
    // worst case does not fit: refused past 90 %, the team is at its limit — told once more.
    expect((await chat(teamKey)).status()).toBe(200);
    await expect.poll(() => sink.mails.length, { timeout: 15_000 }).toBe(1);
    await expect.poll(() => sink.posted.length, { timeout: 15_000 }).toBe(1);
    expect((await chat(teamKey)).status()).toBe(402);
    expect((await chat(teamKey)).status()).toBe(402);
    await expect.poll(() => sink.mails.length, { timeout: 15_000 }).toBe(2);
    // Nothing more comes for the same bands.
    await page.waitForTimeout(4_000);
    expect(sink.mails).toHaveLength(2);
    expect(sink.posted).toHaveLength(2);
    const shown = sink.mails.map((m) => m.data.replace(/\r\n /g, ' ').replace(/=\r\n/g, ''));
    expect(sink.mails[0].to).toEqual(['alerts@example.com']);
    expect(shown.filter((m) => m.includes('has used 90 % of its monthly limit'))).toHaveLength(1);
    expect(shown[0]).toContain('has spent $1.10 of its $1.20 monthly limit');
    expect(shown.filter((m) => m.includes('has reached its monthly limit'))).toHaveLength(1);

    // The webhook's body is signed with the key the page shows.
    const { signature, body } = sink.posted[0];
    const [, t, v1] = signature.match(/^t=(\d+),v1=([0-9a-f]{64})$/) ?? [];
    expect(t).toBeTruthy();
    expect(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')).toBe(v1);
    const hook = JSON.parse(body);
    expect(hook).toMatchObject({
      type: 'budget.threshold_crossed',
      threshold_percent: 90,
      team: { name: 'Alerting' },
      spent_usd: 1.1,
      limit_usd: 1.2,
    });

    // The page lists it; the statement has the spend, and its CSV the same lines.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Billing' }).click();
    await hydrated(page);
    const alerts = page.getByRole('region', { name: 'Recent alerts' });
    await expect(alerts.getByRole('row').filter({ hasText: '90 %' })).toContainText('Sent');
    await expect(alerts.getByRole('row').filter({ hasText: '100 %' })).toContainText('Sent');
    await expect(alerts.getByRole('row').filter({ hasText: '70 %' })).toContainText('Covered by a higher band');
    const byTeam = page.getByRole('table', { name: 'By team' });
    await expect(byTeam.getByRole('row').filter({ hasText: 'Alerting' })).toContainText('$1.10');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^tollgate-statement-\d{4}-\d{2}\.csv$/);
    const csv = Buffer.concat(await (await file.createReadStream()).toArray()).toString('utf8');
    expect(csv).toContain('"team","Alerting","1.100000","1"');
    expect(csv).toContain('"model","e2e-mini","1.100000","1"');

    // A gateway-wide limit the month has reached refuses every key, naming the gateway.
    await page.getByLabel('Monthly limit for the whole gateway (USD)').fill('1.10');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Billing settings saved.').first()).toBeVisible();
    const ownKey = await secretOf('owner-bot');
    const refused = await chat(ownKey);
    expect(refused.status()).toBe(402);
    const error = (await refused.json()).error;
    expect(error.code).toBe('budget_exceeded');
    expect(error.limit).toBe('gateway');
    expect(error.message).toMatch(/^The gateway has reached the monthly spend limit its Owners set\./);
    await context.close();
  });
});
