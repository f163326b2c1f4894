/**
 * The device page's Commands section in a real browser: field errors (params that are not JSON, a method the
 * server refuses), a two-way command answered by a device polling over HTTP, the history; a phone-sized
 * screen and axe-core. Screenshots go to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, horizontalOverflow, launchBrowser, screenshot, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('device commands in the web console', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let gate: { id: string; key: string };
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Gates')]);
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Car park barrier', serial: `CB-${randomBytes(3).toString('hex')}` });
    gate = { id: created.body.device.id, key: created.body.apiKey };
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
    // The one 400 is the refused method the first test provokes on purpose.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'no console errors');
  });

  async function devicePage(width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 860 }, locale: 'en-US', colorScheme: 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
    await page.goto(`${server.url}/devices/${gate.id}`);
    return page;
  }

  it('sends a two-way command with field errors first, and shows the answer in the history', async () => {
    const page = await devicePage(1280);
    const section = page.getByRole('region', { name: 'Commands' });
    await section.getByText('No commands sent yet').waitFor();

    await section.getByLabel('Method').fill('set limit');
    await section.getByLabel('Params (JSON)').fill('{"kmh": 30');
    await section.getByRole('button', { name: 'Send command' }).click();
    await section.getByText('Params must be JSON').waitFor();
    await section.getByLabel('Params (JSON)').fill('{"kmh": 30}');
    await section.getByRole('button', { name: 'Send command' }).click();
    // The server refuses the space in the method and names the field.
    const methodError = section.locator('#command-method-error');
    await methodError.waitFor();
    assert.equal(await section.getByLabel('Method').getAttribute('aria-invalid'), 'true');

    await section.getByLabel('Method').fill('setLimit');
    const polled = app.client().get(`/api/v1/${gate.key}/rpc?timeout=10000`);
    await section.getByRole('button', { name: 'Send command' }).click();
    const command = await polled;
    assert.deepEqual([command.status, command.body.method, command.body.params], [200, 'setLimit', { kmh: 30 }]);
    await section.getByRole('button', { name: 'Waiting for the answer…' }).waitFor();
    await app.client().post(`/api/v1/${gate.key}/rpc/${command.body.id}`, { kmh: 30, ok: true });
    await page.getByRole('status').filter({ hasText: 'The device answered setLimit.' }).waitFor();
    const row = section.getByRole('row').filter({ hasText: 'setLimit' });
    await row.getByText('Answered').waitFor();
    // Stored as jsonb, which orders an object's keys by length.
    await row.getByText('{"ok":true,"kmh":30}').waitFor();
    await screenshot(page, 'device-commands');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the device page with its commands');
  });

  it('shows a one-way command waiting for the device on a phone, then delivered as the device polls', async () => {
    const page = await devicePage(390);
    const section = page.getByRole('region', { name: 'Commands' });
    await section.getByLabel('Method').fill('reboot');
    await section.getByLabel(/Only deliver it/).check();
    assert.equal(await section.getByLabel('Timeout (seconds)').inputValue(), '86400', 'a one-way command waits a day by default');
    await section.getByRole('button', { name: 'Send command' }).click();
    await page.getByRole('status').filter({ hasText: 'reboot waits for the device to connect.' }).waitFor();
    const row = section.getByRole('row').filter({ hasText: 'reboot' });
    await row.getByText('Waiting for the device').waitFor();

    assert.equal((await app.client().get(`/api/v1/${gate.key}/rpc?timeout=5000`)).body.method, 'reboot');
    // The live stream updates the history without a reload.
    await row.getByText('Delivered').waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling at 390 px');
    await screenshot(page, 'device-commands-phone');
  });
});
