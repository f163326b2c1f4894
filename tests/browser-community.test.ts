/**
 * The public community pages in a real browser (Debian's Chromium), signed out: a shared radar whose
 * name is an XSS payload shows as text on the map and in the lists and runs nothing (RushRoster put
 * the street name into a pop-up's innerHTML); the pages pass axe-core and fit a 390 px phone; a
 * manager's toggle on the device page takes the radar off the public pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot,
  serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;
const HOUR = 3_600_000;
const XSS_NAME = '<img src=x onerror=alert(1)>';

describe('public community pages in a browser', { skip, timeout: 180_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let radarId: string;
  const errors: string[] = [];
  const dialogs: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Maple Street Neighbours')]);
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: XSS_NAME, serial: 'XSS-1', lat: 45.523064, lon: -122.676483, speedLimit: 25 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    radarId = created.body.device.id;
    const now = Date.now();
    const events = Array.from({ length: 60 }, (_, i) => ({ ts: new Date(now - (i + 1) * 5 * HOUR).toISOString(), kind: 'speed', speed: 18 + (i % 15), speed_limit: 25 }));
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: true })).status, 200);
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${radarId}/sharing`, { shared: true })).status, 200);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function newPage(width = 1280, height = 900): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height }, locale: 'en-GB', colorScheme: 'light' });
    contexts.push(context);
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    return page;
  }

  it('shows a shared radar named like markup as text on the map, in the list and in the pop-up panel, running nothing', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/public`);
    await page.getByRole('heading', { name: 'Community traffic', level: 1 }).waitFor();
    await page.locator('.map-canvas[data-ready]').waitFor();
    await page.getByText('Map tiles could not be loaded').waitFor();
    const marker = page.getByRole('button', { name: `${XSS_NAME}: Online` });
    await marker.waitFor();
    await page.locator('section[aria-labelledby="map-heading"] ul').getByRole('link', { name: XSS_NAME }).waitFor();
    await marker.click();
    await page.getByRole('heading', { name: XSS_NAME, level: 3 }).waitFor();
    assert.match(await page.locator('.stats').innerText(), /60/, 'vehicles of the last 30 days');
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'the name made no element');
    assert.deepEqual(dialogs, [], 'no script ran');
    await screenshot(page, 'public-overview');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of /public');

    await page.getByRole('button', { name: 'Figures and charts' }).click();
    await page.waitForURL(`**/public/devices/${radarId}`);
    await page.getByRole('heading', { name: XSS_NAME, level: 1 }).waitFor();
    await page.getByText('85th percentile', { exact: true }).waitFor();
    assert.equal(await page.locator('figure.chart').count(), 2);
    await page.getByRole('heading', { name: 'Recent speeders' }).waitFor();
    await eventually(async () => assert.ok((await page.locator('table tbody tr').count()) > 0));
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.deepEqual(dialogs, []);
    await screenshot(page, 'public-device');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the device page');
  });

  it('fits a 390 px phone and says plainly when a radar is not shared', async () => {
    const phone = await newPage(390, 844);
    for (const target of ['/public', `/public/devices/${radarId}`]) {
      await phone.goto(`${server.url}${target}`);
      await phone.getByRole('heading', { level: 1 }).first().waitFor();
      if (target === '/public') await phone.locator('.map-canvas[data-ready]').waitFor();
      else await phone.getByText('85th percentile', { exact: true }).waitFor();
      assert.equal(await horizontalOverflow(phone), 0, `no sideways scrolling on ${target}`);
    }
    await screenshot(phone, 'public-phone-device');
    await phone.goto(`${server.url}/public/devices/00000000-0000-4000-8000-000000000000`);
    await phone.getByText('This radar is not shared').waitFor();
  });

  it('takes the radar off the public pages when a manager unticks it on the device page', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/devices/${radarId}`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/devices/${radarId}`);
    const toggle = page.getByLabel('Show on the public pages');
    await toggle.waitFor();
    assert.equal(await toggle.isChecked(), true);
    await page.getByRole('link', { name: `/public/devices/${radarId}` }).waitFor();
    await toggle.click();
    await page.getByText('Not shared.').waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the device page with the sharing panel');
    assert.equal((await app.client().get(`/api/v1/public/devices/${radarId}`)).status, 404);

    await page.goto(`${server.url}/admin/organization`);
    await page.getByLabel('Photos on public pages').waitFor();
    assert.equal(await page.getByLabel('Public sharing').isChecked(), true);
  });

  it('raised no script error or CSP refusal', async () => {
    for (const context of contexts) for (const open of context.pages()) await open.close();
    const expected = /status of 404 \(Not Found\) \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/public\/devices\/0{8}-/;
    assert.deepEqual(errors.filter((e) => !expected.test(e)), []);
    assert.deepEqual(dialogs, []);
  });
});
