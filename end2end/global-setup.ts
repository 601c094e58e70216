// Starts the suite's server (tollgate.ts: a stub upstream and `tollgate serve` on a fresh
// database), hands its one-time setup link to the tests, and stops both after the run.
import { port } from './playwright.config';
import { startTollgate } from './tollgate';

export { E2E_MODEL } from './tollgate';

export default async function globalSetup() {
  const running = await startTollgate(port);
  process.env.TOLLGATE_E2E_SETUP_LINK = running.link;
  process.env.TOLLGATE_E2E_STUB_URL = running.stubUrl;
  return running.stop;
}
