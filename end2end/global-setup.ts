// Starts `tollgate serve` on a fresh SQLite database in a temporary directory, captures the
// one-time setup link it prints, waits until /healthz answers, and stops it after the run.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { port } from './playwright.config';

export default async function globalSetup() {
  const bin = process.env.TOLLGATE_BIN;
  if (!bin) throw new Error('TOLLGATE_BIN must point at the release tollgate binary (scripts/test.sh sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-'));
  const log = createWriteStream(join(dir, 'server.log'));
  const server = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/e2e.db?mode=rwc`,
      TOLLGATE_LISTEN: `127.0.0.1:${port}`,
      RUST_LOG: 'info,sqlx=warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr.pipe(log);

  const link = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no setup link within 30 s; output:\n${seen}`)), 30_000);
    server.stdout.on('data', (chunk: Buffer) => {
      log.write(chunk);
      seen += chunk.toString();
      const match = seen.match(/setup link \(one-time\): (\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`tollgate exited with ${code}; output:\n${seen}`)));
  });
  process.env.TOLLGATE_E2E_SETUP_LINK = link;

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('tollgate did not answer /healthz within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }

  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
}
