// Measures the console's first load over a slow network: bytes transferred, first contentful
// paint and time to hydration for a cold cache, then what a warm reload transfers again. Not a
// test. Usage:
//   BASE=http://127.0.0.1:3000 EMAIL=… PASSWORD=… [RUNS=5] [PAGE=/dashboard/configuration/users] node tools/first-load.mjs
// (or --base=…, --email=…, --password=…, --runs=…, --page=…). Exits 1 if it cannot sign in.
//
// Each run is a fresh browser context (an empty HTTP cache) signed in with the same session
// cookie; Chromium is throttled through the DevTools protocol to 150 ms latency and 1.6 Mbit/s
// (200,000 bytes/s) each way. Bytes are the sum of `encodedDataLength` over finished requests;
// FCP is the page's own `first-contentful-paint` entry; hydrated is `performance.now()` when
// `body[data-hydrated]` appears (both measured from navigation start). The warm reload happens in
// the same context: every /pkg/ asset should come from the cache, and each one that comes from
// the network with a 200 is counted as a refetch (304 revalidations are counted separately).
import { chromium } from '@playwright/test';
import os from 'node:os';

const args = Object.fromEntries(
  process.argv.slice(2).flatMap((a, i, all) => {
    const m = a.match(/^--([a-z]+)(?:=(.*))?$/);
    if (!m) return [];
    return [[m[1], m[2] ?? all[i + 1]]];
  }),
);
const opt = (name, fallback) => args[name] ?? process.env[name.toUpperCase()] ?? fallback;
const base = opt('base', 'http://127.0.0.1:3000').replace(/\/$/, '');
const email = opt('email');
const password = opt('password', '');
const runs = Number(opt('runs', 5));
const target = opt('page', '/dashboard/configuration/users');
if (!email || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: BASE=… EMAIL=… PASSWORD=… [RUNS=5] node tools/first-load.mjs');
  process.exit(2);
}

const NETWORK = { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 200_000 };
const HYDRATED_TIMEOUT = 180_000;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let storageState;
try {
  storageState = await signIn();
} catch (e) {
  console.error(`cannot sign in to ${base} as ${email}: ${e.message.split('\n')[0]}`);
  await browser.close();
  process.exit(1);
}

const results = [];
for (let i = 1; i <= runs; i++) {
  results.push(await run(i));
  const r = results.at(-1);
  console.error(`run ${i}: cold ${kb(r.coldBytes)}, FCP ${ms(r.fcp)}, hydrated ${ms(r.hydrated)}; warm ${kb(r.warmBytes)}, /pkg/ refetched ${r.pkgRefetched}`);
}
await browser.close();
report(results);

/** Signs in in its own context and returns its storage state (the session cookie). */
async function signIn() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/login`, { timeout: 30_000 });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refused = page.getByRole('alert').first();
  await Promise.race([
    page.waitForURL((url) => url.pathname !== '/login', { timeout: 30_000 }),
    refused.waitFor({ timeout: 30_000 }).then(async () => {
      throw new Error(`the sign-in form says: ${(await refused.textContent())?.trim()}`);
    }),
  ]);
  const state = await context.storageState();
  await context.close();
  if (!state.cookies.length) throw new Error('no session cookie after signing in');
  return state;
}

async function run(n) {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  // Records when hydration marks the body, in the page's own clock (0 = navigation start).
  await page.addInitScript(() => {
    const mark = () => {
      if (window.__hydratedAt === undefined && document.body?.hasAttribute('data-hydrated')) {
        window.__hydratedAt = performance.now();
      }
    };
    new MutationObserver(mark).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  const cdp = await context.newCDPSession(page);
  const net = watch(cdp);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.send('Network.emulateNetworkConditions', NETWORK);

  net.reset();
  await page.goto(base + target, { waitUntil: 'commit', timeout: HYDRATED_TIMEOUT });
  if (new URL(page.url()).pathname === '/login') throw new Error(`run ${n}: the session was not accepted`);
  const cold = await settle(page, net);
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);

  net.reset();
  await page.reload({ waitUntil: 'commit', timeout: HYDRATED_TIMEOUT });
  const warm = await settle(page, net);
  await context.close();

  const pkg = warm.requests.filter((r) => new URL(r.url).pathname.startsWith('/pkg/'));
  return {
    coldBytes: cold.bytes,
    coldRequests: cold.requests.length,
    fcp,
    hydrated: cold.hydrated,
    warmBytes: warm.bytes,
    warmHydrated: warm.hydrated,
    warmNetwork: warm.requests.filter((r) => !r.cached).length,
    warmCached: warm.requests.filter((r) => r.cached).length,
    pkgRefetched: pkg.filter((r) => !r.cached && (r.status === 200 || r.bytes > 0) && r.status !== 304).length,
    pkgRevalidated: pkg.filter((r) => !r.cached && r.status === 304).length,
  };
}

/** Waits for hydration, then for the network to be quiet; returns what was transferred. */
async function settle(page, net) {
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: HYDRATED_TIMEOUT, polling: 50 });
  const hydrated = await page.evaluate(() => window.__hydratedAt);
  await net.quiet(750);
  return { hydrated, bytes: net.bytes(), requests: net.requests() };
}

/** Follows the CDP network events of one page. */
function watch(cdp) {
  let reqs = new Map();
  let inflight = new Set();
  let lastActivity = Date.now();
  const get = (id) => {
    if (!reqs.has(id)) reqs.set(id, { url: '', status: 0, bytes: 0, cached: false, done: false });
    return reqs.get(id);
  };
  const touch = () => (lastActivity = Date.now());
  cdp.on('Network.requestWillBeSent', (e) => {
    const r = get(e.requestId);
    r.url = e.request.url;
    inflight.add(e.requestId);
    touch();
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    get(e.requestId).cached = true;
    touch();
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = get(e.requestId);
    r.url ||= e.response.url;
    r.status = e.response.status;
    if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) r.cached = true;
    touch();
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = get(e.requestId);
    r.bytes = e.encodedDataLength;
    r.done = true;
    inflight.delete(e.requestId);
    touch();
  });
  cdp.on('Network.loadingFailed', (e) => {
    get(e.requestId).done = true;
    inflight.delete(e.requestId);
    touch();
  });
  return {
    reset() {
      reqs = new Map();
      inflight = new Set();
      touch();
    },
    bytes: () => [...reqs.values()].reduce((sum, r) => sum + r.bytes, 0),
    requests: () => [...reqs.values()].filter((r) => r.url && !r.url.startsWith('data:')),
    async quiet(forMs) {
      const deadline = Date.now() + 60_000;
      while ((inflight.size || Date.now() - lastActivity < forMs) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

function report(rows) {
  const cols = [
    ['cold bytes', (r) => r.coldBytes, kb],
    ['cold reqs', (r) => r.coldRequests, String],
    ['FCP', (r) => r.fcp, ms],
    ['hydrated', (r) => r.hydrated, ms],
    ['warm bytes', (r) => r.warmBytes, kb],
    ['warm hydrated', (r) => r.warmHydrated, ms],
    ['warm net/cache', (r) => r.warmNetwork, null],
    ['warm /pkg/ refetched', (r) => r.pkgRefetched, String],
    ['warm /pkg/ 304', (r) => r.pkgRevalidated, String],
  ];
  const line = (label, r, med) =>
    [label, ...cols.map(([name, get, fmt]) => {
      if (name === 'warm net/cache') return med ? `${median(rows.map(get))}/${median(rows.map((x) => x.warmCached))}` : `${r.warmNetwork}/${r.warmCached}`;
      return fmt(med ? median(rows.map(get)) : get(r));
    })];
  const table = [['run', ...cols.map(([name]) => name)], ...rows.map((r, i) => line(String(i + 1), r, false)), line('median', null, true)];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const cpus = os.cpus();
  console.log(`first load of ${base}${target}, ${rows.length} run(s), cold cache each; network: ${NETWORK.latency} ms latency, ${(NETWORK.downloadThroughput * 8) / 1e6} Mbit/s each way`);
  console.log(`machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.release()}, Chromium ${browser.version()}`);
  for (const [i, row] of table.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0 || i === table.length - 2) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function median(values) {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
function kb(bytes) {
  return bytes === null ? '–' : `${(bytes / 1024).toFixed(1)} KiB`;
}
function ms(t) {
  return t === null || t === undefined ? '–' : `${Math.round(t)} ms`;
}
