/**
 * The maintenance pages in a real browser: log maintenance on the device page with the server's field
 * errors inline and a photo attached, then find the device on /maintenance; a phone-sized screen and
 * axe-core on both. Screenshots go to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, horizontalOverflow, launchBrowser, screenshot, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

describe('maintenance in the web console', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let fridge: string;
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Frio')]);
    fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 1', serial: 'CR-1' })).body.device.id;
    const past = await owner.client.post(`/api/v1/devices/${fridge}/maintenance`, {
      type: 'inspection', performedBy: 'Rui', description: 'Annual inspection', performedAt: '2025-12-01T10:00:00Z', nextDueOn: day(-2),
    });
    assert.equal(past.status, 201, JSON.stringify(past.body));
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
    // The one 400 is the refused save the first test provokes on purpose.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'no console errors');
  });

  async function signedInPage(width = 1280): Promise<Page> {
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
    return page;
  }

  it('logs maintenance with the server\'s field errors inline and a photo, and deletes it after confirmation', async () => {
    const page = await signedInPage();
    await page.goto(`${server.url}/devices/${fridge}`);
    const section = page.getByRole('region', { name: 'Maintenance' });
    await section.getByText('Annual inspection').waitFor();

    await section.getByRole('button', { name: 'Log maintenance' }).click();
    const dialog = page.getByRole('dialog', { name: 'Log maintenance' });
    await dialog.getByLabel('Technician').fill('Ana');
    await dialog.getByLabel('What was done').fill('Replaced the door gasket');
    await dialog.getByLabel('Cost').fill('45.5');
    await dialog.getByRole('button', { name: 'Log maintenance' }).click();
    // The server refuses a cost without a currency and names the field.
    const currencyError = dialog.locator('#maintenance-currency-error');
    await currencyError.waitFor();
    assert.match(await currencyError.innerText(), /required with a cost/);
    assert.equal(await dialog.getByLabel('Currency').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'maintenance-dialog-error');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the dialog');

    await dialog.getByLabel('Currency').fill('eur');
    await dialog.getByLabel('Parts used (one per line)').fill('Door gasket');
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    await dialog.getByLabel('Add photos or PDFs').setInputFiles({ name: 'gasket.png', mimeType: 'image/png', buffer: png });
    await dialog.getByRole('button', { name: 'Log maintenance' }).click();
    await page.getByRole('status').filter({ hasText: 'Maintenance logged.' }).waitFor();
    await section.getByText('Replaced the door gasket').waitFor();
    await section.getByRole('link', { name: 'gasket.png' }).waitFor();
    await screenshot(page, 'maintenance-device-section');

    await section.getByRole('button', { name: /^Delete the corrective|^Delete the preventive/ }).first().click();
    const confirm = page.getByRole('dialog', { name: 'Delete this maintenance record?' });
    await confirm.getByRole('button', { name: 'Delete record' }).click();
    await page.getByRole('status').filter({ hasText: 'Maintenance deleted.' }).waitFor();
    assert.equal(await section.getByText('Replaced the door gasket').count(), 0);
  });

  it('lists the overdue device on /maintenance, reachable from the navigation, on a phone too', async () => {
    const page = await signedInPage(390);
    await page.goto(`${server.url}/maintenance`);
    await page.getByRole('heading', { name: 'Maintenance due', level: 1 }).waitFor();
    const table = page.getByRole('region', { name: 'Due maintenance' });
    await table.getByRole('link', { name: 'Cold room 1' }).waitFor();
    assert.match(await table.innerText(), /2 days overdue/);
    assert.equal(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'), '/api/v1/maintenance/due.csv');
    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling at 390 px');
    await screenshot(page, 'maintenance-due-phone');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of /maintenance');
  });
});
