// Starting the things the tests talk to: an OpenAI-shaped stub upstream on loopback, and
// `tollgate serve` (the release binary) on a fresh SQLite database in a temporary directory with
// a providers file pointing at the stub — capturing the one-time setup link it prints and
// waiting until /healthz answers. Global setup starts the suite's server; a spec that needs a
// differently configured one (the Billing alerts: a mail server) starts its own.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/// The model the tests call: 100 tokens in and 10 out at $10,000 per million tokens each, so every
/// request through the gateway costs exactly $1.10.
export const E2E_MODEL = 'e2e-mini';
/// A second model at twice the price: $2.20 a request.
export const E2E_LARGE = 'e2e-large';

export interface Running {
  /** The one-time setup link the server printed. */
  link: string;
  /** The stub upstream's base URL (`http://127.0.0.1:PORT/v1`). */
  stubUrl: string;
  stop: () => Promise<void>;
}

/** Starts the stub and `tollgate serve` on `port`, with `env` added to its environment. */
export async function startTollgate(port: number, env: Record<string, string> = {}): Promise<Running> {
  const bin = process.env.TOLLGATE_BIN;
  if (!bin) throw new Error('TOLLGATE_BIN must point at the release tollgate binary (scripts/test.sh sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-e2e-'));
  const log = createWriteStream(join(dir, 'server.log'));
  const stub = await startStub();
  const providers = join(dir, 'providers.toml');
  writeFileSync(providers, providersToml((stub.address() as AddressInfo).port));
  const server = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/e2e.db?mode=rwc`,
      TOLLGATE_LISTEN: `127.0.0.1:${port}`,
      TOLLGATE_PROVIDERS: providers,
      RUST_LOG: 'info,sqlx=warn',
      ...env,
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

  return {
    link,
    stubUrl: `http://127.0.0.1:${(stub.address() as AddressInfo).port}/v1`,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      stub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function providersToml(stubPort: number): string {
  return `[[providers]]
name = "stub"
base_url = "http://127.0.0.1:${stubPort}/v1"

[[models]]
name = "${E2E_MODEL}"
provider = "stub"
input_usd_per_mtok = 10000
output_usd_per_mtok = 10000
max_output_tokens = 10

[[models]]
name = "${E2E_LARGE}"
provider = "stub"
input_usd_per_mtok = 20000
output_usd_per_mtok = 20000
max_output_tokens = 10
`;
}

/// Answers every chat completion at once with the same usage, and `GET /v1/models` (with a key:
/// 401 without one, as providers answer) with the two models.
async function startStub(): Promise<Server> {
  const stub = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/v1/models') {
        if (!req.headers.authorization) {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { message: 'no key' } }));
          return;
        }
        res.end(JSON.stringify({ object: 'list', data: [E2E_MODEL, E2E_LARGE].map((id) => ({ id, object: 'model' })) }));
        return;
      }
      res.end(
        JSON.stringify({
          id: 'chatcmpl-e2e',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: E2E_MODEL,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the stub.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  return stub;
}
