import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createHttpApp } from '../../src/server/core/http/app.js';
import type { Runtime } from '../../src/server/runtime.js';
import { DEFAULT_WEB_ROOT, servedByServer, webRoutes } from '../../src/server/web/routes.js';

/** Debian's chromium package (`apt-get install chromium`); never a browser downloaded by npm. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts', 'browser');
// Every test app's map tiles fail at once (no internet here): the console's map shows its markers on a plain background.
export { OFFLINE_TILES } from './app.js';

const require = createRequire(import.meta.url);

function newestMtime(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(target).map((name) => newestMtime(path.join(target, name))));
}

/**
 * Builds the console into dist/web unless a build newer than every source is there already
 * (`npm run build` ran), so the test never drives a stale console.
 */
export function ensureWebBuild(): void {
  const index = path.join(DEFAULT_WEB_ROOT, 'index.html');
  const sources = Math.max(newestMtime('src/web'), newestMtime('src/shared'), newestMtime('vite.config.ts'));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  const vite = path.join(path.dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Listens on a loopback port with the console and the API of `runtime`. When the app already serves
 * the console (webRoutes() registered in src/server/app.ts) that is the app itself; otherwise a second
 * app with only the console's routes answers the console's paths and the runtime's app the rest,
 * split exactly as the plugin splits them.
 */
export async function serveConsole(runtime: Runtime): Promise<ConsoleServer> {
  if (runtime.routes.some((route) => route.url === '/assets/*')) {
    const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: async () => undefined };
  }
  const { app: web } = await createHttpApp(runtime.ctx, { users: runtime.services.identity, devices: runtime.services.devices }, [webRoutes()]);
  const server = http.createServer((request, response) => {
    const pathname = (request.url ?? '/').split('?')[0] ?? '/';
    const isPage = (request.method === 'GET' || request.method === 'HEAD') && !servedByServer(pathname);
    (isPage ? web : runtime.app).routing(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await web.close();
    },
  };
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * Watches a page for what a user would never see but should not happen: uncaught exceptions and
 * console errors, CSP refusals among them. Failed requests the console expects (the 401 of the
 * session probe on the sign-in page) are left out.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (/Failed to load resource: the server responded with a status of 401/.test(message.text())) return;
    // Missing map tiles are expected offline; the map says so itself.
    if (message.location().url.startsWith('https://tiles.invalid/')) return;
    const { url } = message.location();
    errors.push(`console: ${message.text()}${url ? ` (${url})` : ''}`);
  });
  return errors;
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core on the page (evaluated through the DevTools protocol, so the page's CSP stays on) and
 * returns the serious and critical violations, one readable line each.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** How far the page is wider than the viewport (0: no horizontal scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

/** Retries `check` until it passes or `timeoutMs` passes (then throws its last error). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
