// Takes screenshots of the running console at a laptop and a narrow width, for a person to look
// at. Not a test. Usage: BASE=http://127.0.0.1:3000 EMAIL=… PASSWORD=… node tools/screenshots.mjs OUTDIR [path…]
import { chromium } from '@playwright/test';

const base = process.env.BASE ?? 'http://127.0.0.1:3000';
const [outDir = '/tmp/shots', ...paths] = process.argv.slice(2);
const pages = paths.length ? paths : ['/login', '/dashboard', '/dashboard/configuration/users'];
const widths = { laptop: { width: 1366, height: 860 }, narrow: { width: 390, height: 844 } };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
for (const scheme of ['light', 'dark']) {
  for (const [name, viewport] of Object.entries(widths)) {
    const context = await browser.newContext({ viewport, colorScheme: scheme });
    const page = await context.newPage();
    if (process.env.EMAIL) {
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill(process.env.EMAIL);
      await page.getByLabel('Password').fill(process.env.PASSWORD ?? '');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/dashboard/);
    }
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      await page.waitForLoadState('networkidle');
      const file = `${outDir}/${path.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'root'}-${name}-${scheme}.png`;
      await page.screenshot({ path: file, fullPage: true });
      console.log(file);
    }
    await context.close();
  }
}
await browser.close();
