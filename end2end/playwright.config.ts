// Playwright drives the real release binary (started by global-setup.ts on a fresh database) in
// Debian's Chromium. Every flow after setup runs twice: hydrated, and with JavaScript off.
import { defineConfig } from '@playwright/test';

export const port = Number(process.env.E2E_PORT ?? 3187);

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    navigationTimeout: 15_000,
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'setup', testMatch: /setup\.spec\.ts/ },
    { name: 'hydrated', testIgnore: /(setup|reset)\.spec\.ts/, dependencies: ['setup'] },
    { name: 'no-js', testIgnore: /(setup|reset)\.spec\.ts/, dependencies: ['setup'], use: { javaScriptEnabled: false } },
    // Deleting the access list removes everyone else, so it runs after every other test.
    { name: 'reset', testMatch: /reset\.spec\.ts/, dependencies: ['hydrated', 'no-js'] },
  ],
});
