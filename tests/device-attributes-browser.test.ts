/**
 * Device attributes on the device page in a real browser: what the device reported, and shared attributes a
 * manager adds, edits and deletes (the device reads them back), on a phone too, checked with axe-core.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, screenshot, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('device attributes in the web console', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let fridge: { id: string; key: string };
  const contexts: BrowserContext[] = [];
  const errors: string[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Frio')]);
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 1', serial: 'CR-ATTR-1' });
    fridge = { id: created.body.device.id, key: created.body.apiKey };
    const reported = await app.runtime.app.inject({ method: 'POST', url: `/api/v1/${fridge.key}/attributes`, payload: { firmwareVersion: 'v1.2.2', ip: '10.0.4.17' } });
    assert.equal(reported.statusCode, 200, reported.body);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
    assert.deepEqual(errors, [], 'no console errors');
  });

  async function signedInPage(who: SignedIn, width = 1280): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 860 }, locale: 'en-US', colorScheme: 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
    return page;
  }

  const sharedOnDevice = async () =>
    (await app.runtime.app.inject({ method: 'GET', url: `/api/v1/${fridge.key}/attributes?sharedKeys=safeRangeMax,mode` })).json().shared;

  it('shows what the device reported and lets a manager add, edit and delete shared attributes, on a phone', async () => {
    const page = await signedInPage(owner, 390);
    await page.goto(`${server.url}/devices/${fridge.id}`);
    const section = page.getByRole('region', { name: 'Attributes' });
    const reported = section.getByRole('region', { name: /Reported by the device/ });
    await reported.getByText('v1.2.2').waitFor();
    await reported.getByText('10.0.4.17').waitFor();

    await section.getByLabel('Key').fill('safeRangeMax');
    await section.getByLabel('Value').fill('8');
    await section.getByRole('button', { name: 'Add attribute' }).click();
    const shared = section.getByRole('region', { name: /Shared with the device/ });
    await shared.getByRole('cell', { name: 'safeRangeMax', exact: true }).waitFor();
    assert.deepEqual(await sharedOnDevice(), { safeRangeMax: 8 }, 'a number, as the device reads it');

    await shared.getByRole('button', { name: 'Edit safeRangeMax' }).click();
    await section.getByLabel('Value').fill('7.5');
    await section.getByRole('button', { name: 'Save attribute' }).click();
    await shared.getByRole('cell', { name: '7.5', exact: true }).waitFor();
    assert.deepEqual(await sharedOnDevice(), { safeRangeMax: 7.5 });

    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling at 390 px');
    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, 'device-attributes-phone');

    await shared.getByRole('button', { name: 'Delete safeRangeMax' }).click();
    await section.getByText('No shared attributes').waitFor();
    await eventually(async () => assert.deepEqual(await sharedOnDevice(), {}));
  });

  it('shows a viewer the attributes without the form', async () => {
    const viewer = await app.member(owner, 'viewer');
    const page = await signedInPage(viewer);
    await page.goto(`${server.url}/devices/${fridge.id}`);
    const section = page.getByRole('region', { name: 'Attributes' });
    await section.getByText('v1.2.2').waitFor();
    assert.equal(await section.getByRole('button', { name: 'Add attribute' }).count(), 0);
  });
});
