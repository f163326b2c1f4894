/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real
 * Vigil: sign-in, the overview, live events, filters and CSV export, roles, deep links, a phone-sized
 * screen, dark theme, and axe-core on every main page. Screenshots go to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD, startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot,
  serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const SITE_ZONE = 'America/Denver';
const BROWSER_ZONE = 'Europe/Paris';

// CI installs Debian's chromium (.ci/run); elsewhere the suite says why it skips rather than failing.
const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('web console in a browser', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let radar: { id: string; apiKey: string; name: string };
  let roaming: { id: string; apiKey: string; name: string };
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Riverside Traffic')]);
    const site = await owner.client.post('/api/v1/sites', { name: 'Riverside', timezone: SITE_ZONE });
    assert.equal(site.status, 201, JSON.stringify(site.body));
    const created = await owner.client.post('/api/v1/devices', {
      kind: 'speed_radar', name: 'Main Street radar', serial: 'RR-1001', siteId: site.body.id, speedLimit: 30, speedUnits: 'mph', lat: 39.7392, lon: -104.9903,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    radar = { id: created.body.device.id, apiKey: created.body.apiKey, name: 'Main Street radar' };
    const other = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'Roaming sensor', serial: 'SN-7' });
    roaming = { id: other.body.device.id, apiKey: other.body.apiKey, name: 'Roaming sensor' };
    // Never reports: stays offline.
    assert.equal((await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Gate camera', serial: 'CAM-3' })).status, 201);
    // One event already there: the radar is online when the owner first looks.
    await ingest(radar.apiKey, [{ ts: new Date(Date.now() - 60_000).toISOString(), kind: 'speed', speed: 27 }]);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function ingest(apiKey: string, events: object[]): Promise<string[]> {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': apiKey }, payload: { events } });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().rejected.length, 0, response.body);
    return response.json().events.map((e: { id: string }) => e.id);
  }

  /** A camera photo for an event, through the device's three-step upload. */
  async function attachPhoto(apiKey: string, eventId: string): Promise<void> {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 30, g: 110, b: 170 } } }).jpeg().toBuffer();
    const issued = await app.runtime.app.inject({ method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/url`, headers: { 'x-api-key': apiKey } });
    assert.equal(issued.statusCode, 200, issued.body);
    const { upload_url: uploadUrl, photo_key: photoKey } = issued.json();
    const target = new URL(uploadUrl);
    const put = await app.runtime.app.inject({ method: 'PUT', url: `${target.pathname}${target.search}`, headers: { 'content-type': 'image/jpeg' }, payload: jpeg });
    assert.equal(put.statusCode, 200, put.body);
    const confirm = await app.runtime.app.inject({
      method: 'POST', url: `/api/ingest/v1/events/${eventId}/photo/confirm?photo_key=${encodeURIComponent(photoKey)}`, headers: { 'x-api-key': apiKey },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
  }

  async function newPage(options: { width?: number; height?: number } = {}): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
      locale: 'en-US',
      timezoneId: BROWSER_ZONE,
      colorScheme: 'light',
      acceptDownloads: false,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    return page;
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function assertAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    const violations = await seriousA11yViolations(page);
    assert.deepEqual(violations, [], `accessibility of ${name}`);
  }

  const path = (page: Page) => {
    const url = new URL(page.url());
    return `${url.pathname}${url.search}`;
  };

  let ownerPage: Page;

  it('sends a visitor to sign in, shows the server\'s error inline, then lands on the overview with the fleet', async () => {
    const page = (ownerPage = await newPage());
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL('**/login?next=%2Fdashboard');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await assertAccessible(page, 'login');

    // Keyboard users start at the form; the wrong password comes back as the server's message.
    await signIn(page, owner.email, 'not the password');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /email or password is incorrect/i);
    assert.equal(path(page), '/login?next=%2Fdashboard');

    await signIn(page, owner.email, owner.password);
    await page.waitForURL('**/dashboard');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // The located radar is on the map (its marker named by device and status); the map needs no tiles.
    await page.getByRole('button', { name: `${radar.name}: Online` }).waitFor();
    await eventually(async () => {
      const online = await page.getByRole('link', { name: /Devices online/ }).innerText();
      assert.match(online, /^1\s/);
      const offline = await page.getByRole('link', { name: /Devices offline/ }).innerText();
      assert.match(offline, /^2\s/, 'the sensor and the camera have not reported');
      assert.match(await page.getByRole('link', { name: /Events in the last 24 h/ }).innerText(), /^1\s/);
    });
    // The owner's navigation has Administration; the organization is named in the top bar.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('heading', { name: 'Administration' }).waitFor();
    await nav.getByRole('link', { name: 'Members' }).waitFor();
    await page.getByText(/Riverside Traffic/).first().waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    // The keyboard starts at a skip link, and focus is visible.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({ text: document.activeElement?.textContent, outline: getComputedStyle(document.activeElement!).outlineStyle }));
    assert.deepEqual(focused, { text: 'Skip to content', outline: 'solid' });
    await assertAccessible(page, 'dashboard');
  });

  it('shows events as they arrive, in the site\'s zone, with units and photo, filtered, with the filter in the CSV link', async () => {
    const page = ownerPage;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    await page.waitForURL('**/events');
    const rows = page.locator('table tbody tr');
    await eventually(async () => assert.equal(await rows.count(), 1));

    // Two radar events (one speeding, with a photo) and one from the sensor without a site, sent by the devices.
    const now = Date.now();
    const [, speedingId] = await ingest(radar.apiKey, [
      { ts: new Date(now - 20_000).toISOString(), kind: 'speed', speed: 29 },
      { ts: new Date(now - 10_000).toISOString(), kind: 'speed', speed: 47.5 },
    ]);
    await attachPhoto(radar.apiKey, speedingId!);
    await ingest(roaming.apiKey, [{ ts: new Date(now - 5_000).toISOString(), kind: 'reading' }]);
    await eventually(async () => assert.equal(await rows.count(), 4), 8000);

    // Newest first: the sensor's reading (no site: the organization's zone, UTC), then the speeding radar event (site zone, mph, photo).
    const sensorRow = rows.nth(0);
    assert.match(await sensorRow.innerText(), /Roaming sensor/);
    assert.equal(await sensorRow.getAttribute('class'), 'row-new', 'arrivals are highlighted');
    assert.equal(await rows.nth(3).getAttribute('class'), null, 'the event that was there is not');
    assert.equal(await sensorRow.locator('time').getAttribute('title'), 'UTC');
    assert.match(await sensorRow.locator('time').innerText(), /\bUTC$/);
    const speedingRow = rows.nth(1);
    assert.match(await speedingRow.innerText(), /47\.5 mph/);
    assert.match(await speedingRow.innerText(), /Speeding/);
    assert.equal(await speedingRow.locator('time').getAttribute('title'), SITE_ZONE);
    // The organization's locale (en-US by default), not the browser's: month first, 12-hour clock, the site's zone named.
    assert.match(await speedingRow.locator('time').innerText(), /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} (AM|PM) (MST|MDT)$/);
    const thumb = speedingRow.getByRole('img', { name: /Photo of Main Street radar/ });
    assert.equal(await thumb.getAttribute('src'), `/api/v1/events/${speedingId}/photo?size=thumb`);
    await eventually(async () => assert.ok(await thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 320)));
    await page.getByText(`devices without a site use the organization's (UTC)`).waitFor();
    await assertAccessible(page, 'events');

    const csv = page.getByRole('link', { name: 'Export CSV' });
    assert.equal(await csv.getAttribute('href'), '/api/v1/events.csv');
    await page.getByLabel('Speeding only').check();
    await page.getByLabel('Device').selectOption({ label: radar.name });
    await eventually(async () => assert.equal(await rows.count(), 1));
    const filtered = new URL(path(page), server.url);
    assert.equal(filtered.searchParams.get('speedingOnly'), 'true');
    assert.equal(filtered.searchParams.get('deviceId'), radar.id);
    const href = new URL((await csv.getAttribute('href'))!, server.url);
    assert.equal(href.pathname, '/api/v1/events.csv');
    assert.equal(href.searchParams.get('speedingOnly'), 'true');
    assert.equal(href.searchParams.get('deviceId'), radar.id);
    // The link works with the session and carries the filter: one speeding event.
    const exported = await page.evaluate(async (url) => (await fetch(url)).text(), href.toString());
    const lines = exported.trim().split('\n');
    assert.equal(lines.length, 2, exported);
    assert.match(lines[1]!, /Main Street radar/);

    // A new speeding event appears under the filter without reload; a slow one does not.
    await ingest(radar.apiKey, [{ ts: new Date().toISOString(), kind: 'speed', speed: 52 }, { ts: new Date(Date.now() - 1000).toISOString(), kind: 'speed', speed: 12 }]);
    await eventually(async () => assert.equal(await rows.count(), 2), 8000);
    assert.match(await rows.nth(0).innerText(), /52 mph/);

    // Reloading the deep link keeps the filter.
    await page.reload();
    await eventually(async () => assert.equal(await rows.count(), 2));
    assert.equal(await page.getByLabel('Speeding only').isChecked(), true);
    assert.equal(await page.getByLabel('Device').inputValue(), radar.id);

    // Counts are grouped in the organization's locale: 1,000 more readings (outside the filter) on the overview.
    await ingest(roaming.apiKey, Array.from({ length: 1000 }, (_, i) => ({ ts: new Date(Date.now() - 3_600_000 - i * 1000).toISOString(), kind: 'reading' })));
    await app.settleRollups();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await eventually(async () => assert.match(await page.locator('.kpi', { hasText: 'Events in the last 24 h' }).innerText(), /\b1,0\d\d\b/), 8000);
  });

  it('lists, searches and filters devices; the device page works as a deep link', async () => {
    const page = ownerPage;
    await page.goto(`${server.url}/devices`);
    const rows = page.locator('table tbody tr');
    await eventually(async () => assert.equal(await rows.count(), 3));
    await page.getByLabel('Status').selectOption('offline');
    await eventually(async () => assert.equal(await rows.count(), 1));
    assert.match(await rows.first().innerText(), /Gate camera/);
    assert.match(path(page), /status=offline/);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Search').fill('main str');
    await eventually(async () => {
      assert.equal(await rows.count(), 1);
      assert.match(await rows.first().innerText(), /Main Street radar/);
    });
    await page.getByLabel('Search').fill('no such device');
    await page.getByRole('heading', { name: 'No devices match these filters' }).waitFor();
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Kind').selectOption('speed_radar');
    await eventually(async () => assert.equal(await rows.count(), 1));
    await assertAccessible(page, 'devices');

    await page.getByRole('link', { name: radar.name }).click();
    await page.waitForURL(`**/devices/${radar.id}`);
    await page.getByRole('heading', { name: radar.name, level: 1 }).waitFor();
    // A fresh load of the address (a bookmark, a reload) renders the same page.
    await page.reload();
    await page.getByRole('heading', { name: radar.name, level: 1 }).waitFor();
    await page.locator('.page-header').getByText('Online').waitFor();
    const details = page.locator('dl.details').first();
    assert.match(await details.innerText(), /Riverside/);
    assert.match(await details.innerText(), /39\.73920, -104\.99030/);
    assert.match(await details.innerText(), /30 mph/);
    await eventually(async () => assert.equal(await page.getByRole('region', { name: `Latest events of ${radar.name}` }).locator('tbody tr').count(), 5));
    await assertAccessible(page, 'device-detail');
  });

  it('remembers the dark theme and stays accessible in it', async () => {
    const page = ownerPage;
    await page.goto(`${server.url}/dashboard`);
    await page.getByRole('button', { name: 'Use dark theme' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.reload();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('link', { name: radar.name }).first().waitFor();
    await assertAccessible(page, 'dashboard-dark');
    await page.goto(`${server.url}/events`);
    await page.locator('table tbody tr').first().waitFor();
    await assertAccessible(page, 'events-dark');
    await page.getByRole('button', { name: 'Use light theme' }).click();
  });

  it('fits a 390 px phone: no horizontal scrolling, navigation behind a menu button', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${server.url}/login`);
    await signIn(page, owner.email, owner.password);
    await page.waitForURL('**/dashboard');
    await page.getByRole('link', { name: radar.name }).first().waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'overview overflows');
    await screenshot(page, 'phone-dashboard');

    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Events' }).isVisible(), false, 'the navigation is collapsed');
    const menu = page.getByRole('button', { name: 'Menu', exact: true });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await page.keyboard.press('Escape');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    assert.equal(await menu.evaluate((button) => button === document.activeElement), true, 'Escape returns focus to the button');
    await menu.click();
    await nav.getByRole('link', { name: 'Events' }).waitFor({ state: 'visible' });
    await page.waitForFunction(() => getComputedStyle(document.getElementById('main-nav')!).transform === 'none');
    await screenshot(page, 'phone-menu', false);
    await nav.getByRole('link', { name: 'Events' }).click();
    await page.waitForURL('**/events');
    await nav.getByRole('link', { name: 'Events' }).waitFor({ state: 'hidden' });
    await page.locator('table tbody tr').first().waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'events overflow');
    await assertAccessible(page, 'phone-events');

    for (const address of ['/devices', `/devices/${radar.id}`]) {
      await page.goto(`${server.url}${address}`);
      await page.locator('table tbody tr').first().waitFor();
      assert.equal(await horizontalOverflow(page), 0, `${address} overflows`);
    }
    await screenshot(page, 'phone-device');

    // The session is revoked elsewhere: the live stream closes and the console asks to sign in, then comes back here.
    await page.evaluate(async () => {
      const me = (await (await fetch('/api/v1/auth/me')).json()) as { csrfToken: string };
      await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'x-csrf-token': me.csrfToken } });
    });
    await page.waitForURL(`**/login?next=%2Fdevices%2F${radar.id}`);
    await signIn(page, owner.email, owner.password);
    await page.waitForURL(`**/devices/${radar.id}`);
    await page.getByRole('heading', { name: radar.name, level: 1 }).waitFor();
  });

  it('brings a signed-out viewer back to the deep link after sign-in, and refuses admin pages typed by hand', async () => {
    const viewer = await app.member(owner, 'viewer');
    const page = await newPage();
    await page.goto(`${server.url}/events?speedingOnly=true`);
    await page.waitForURL('**/login?next=%2Fevents%3FspeedingOnly%3Dtrue');
    await signIn(page, viewer.email, viewer.password);
    await page.waitForURL('**/events?speedingOnly=true');
    await eventually(async () => assert.equal(await page.locator('table tbody tr').count(), 2));
    assert.equal(await page.getByLabel('Speeding only').isChecked(), true);

    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('heading', { name: 'Administration' }).count(), 0, 'a viewer sees no Administration');
    for (const address of ['/admin/members', '/admin/sites', '/admin/audit']) {
      await page.goto(`${server.url}${address}`);
      await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
      assert.match(await page.locator('main').innerText(), /Your role in .* is Viewer/);
    }
    await assertAccessible(page, 'not-allowed');
    await page.goto(`${server.url}/no/such/page`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await assertAccessible(page, 'not-found');

    // Signing out from the user menu ends the session: the console asks to sign in again.
    await page.getByRole('button', { name: /account menu/i }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await page.goto(`${server.url}/devices`);
    await page.waitForURL('**/login?next=%2Fdevices');
  });

  it('asks for a password reset from the sign-in page', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL('**/forgot-password');
    assert.equal(await page.getByLabel('Email').inputValue(), owner.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('status').filter({ hasText: /link/i }).waitFor();
    await assertAccessible(page, 'forgot-password');
  });

  it('administers as owner: creates a site, invites a viewer restricted to it, and finds both in the audit log', async () => {
    const page = ownerPage;
    await page.goto(`${server.url}/admin/sites`);
    await page.getByRole('heading', { name: 'Sites', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New site' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New site' });
    await dialog.getByLabel('Name').fill('Harbor Depot');
    await dialog.getByLabel('Latitude').fill('47.6');
    await dialog.getByLabel('Longitude').fill('-122.33');
    await dialog.getByLabel('Time zone').selectOption('America/Los_Angeles');
    await dialog.getByRole('button', { name: 'Create site' }).click();
    await page.getByRole('status').filter({ hasText: 'Site “Harbor Depot” created.' }).waitFor();
    await page.getByRole('cell', { name: 'Harbor Depot', exact: true }).waitFor();
    await assertAccessible(page, 'admin-sites');

    await page.goto(`${server.url}/admin/members`);
    await page.getByLabel('Email', { exact: true }).fill('harbor.viewer@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    const invite = page.getByRole('region', { name: 'Invite someone' });
    await invite.getByLabel('All sites, including new ones').uncheck();
    await invite.getByLabel('Harbor Depot').check();
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    const link = await page.getByLabel('Invite link').inputValue();
    assert.match(link, /\/invite/);
    await page.getByRole('region', { name: 'Pending invitations' }).getByRole('row', { name: /harbor\.viewer@example\.com.*Viewer.*Harbor Depot/ }).waitFor();
    await assertAccessible(page, 'admin-members');

    await page.goto(`${server.url}/admin/audit`);
    const log = page.getByRole('region', { name: 'Audit log' });
    await log.getByRole('cell', { name: 'site.created' }).first().waitFor();
    await log.getByRole('cell', { name: 'member.invited' }).first().waitFor();
    await page.getByLabel('Action', { exact: true }).fill('member');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => assert.equal(await log.getByRole('cell', { name: 'site.created' }).count(), 0));
    await log.getByRole('cell', { name: 'member.invited' }).first().waitFor();
    await assertAccessible(page, 'admin-audit');
  });

  it('switches organization from the top bar', async () => {
    const page = ownerPage;
    // The owner is invited into a second organization and accepts with their password.
    const other = await app.owner('Harbor Cold Chain');
    const invitation = await other.client.post('/api/v1/invitations', { email: owner.email, role: 'viewer' });
    const token = new URL(invitation.body.inviteUrl).searchParams.get('token')!;
    assert.equal((await app.client().register({ invitationToken: token, password: PASSWORD })).status, 201);

    await page.goto(`${server.url}/devices`);
    const switcher = page.getByRole('combobox', { name: 'Organization' });
    await switcher.waitFor();
    const labels = await switcher.locator('option').allInnerTexts();
    await switcher.selectOption({ label: labels.find((label) => label.startsWith('Harbor Cold Chain'))! });
    await page.getByRole('heading', { name: 'No devices yet' }).waitFor();
    // A viewer there: no Administration.
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('heading', { name: 'Administration' }).count(), 0);
    await switcher.selectOption({ label: labels.find((label) => label.startsWith('Riverside Traffic'))! });
    await eventually(async () => assert.equal(await page.locator('table tbody tr').count(), 3));
  });

  it('the server serves the console: assets cached for good, pages never, server paths untouched', async () => {
    const index = await fetch(`${server.url}/devices/anything`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, html);
    const script = await fetch(`${server.url}${asset}`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('cache-control') ?? '', /max-age=31536000.*immutable/);
    assert.equal((await fetch(`${server.url}/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${server.url}/favicon.ico`)).status, 404);
    const api = await fetch(`${server.url}/api/v1/nothing-here`);
    assert.equal(api.status, 404);
    assert.equal((await api.json()).error.code, 'not_found');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/reset-password?token=x`)).headers.get('content-type')?.startsWith('text/html'), true);
  });

  it('raised no script error or CSP refusal in any page', async () => {
    for (const context of contexts.splice(0)) await context.close();
    assert.deepEqual(errors, []);
  });
});
