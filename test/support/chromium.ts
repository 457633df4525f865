import { existsSync } from 'node:fs';

/** Debian's chromium, which .ci/run installs; the browser tests drive it with playwright-core. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Whether the browser tests can run; in CI a missing browser is an error, not a skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI) throw new Error(`CI needs ${CHROMIUM_PATH}: apt-get install -y chromium`);
  return false;
}

/** No traffic of the browser's own (updates, sync, field trials): the page's requests only. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
