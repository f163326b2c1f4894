/**
 * Everyday usability in a real browser (Debian's Chromium) against a real Vigil, as a member meets it:
 * navigation and overview cards follow the devices the member can see (a viewer of a cold store gets no
 * speed or camera pages); on a 390 px phone the events come before their filters, an event's time reads as its
 * date over its clock (not four ragged lines), the devices table
 * keeps "Last seen" and the /stats heatmap fits with readable text and a legend; the sidebar reaches
 * the bottom of a long page; the signed-out sign-in page logs nothing; a radar's page shows its
 * statistics; the audit log names what changed; public photos are blurred and only when the
 * organization opts in, and a small sample says so. Screenshots: docs/screenshots/usability-*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, OFFLINE_TILES,
  serveConsole, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;
const HOUR = 3_600_000;
const PHONE = { width: 390, height: 844 };
/** Fewer than the 100 vehicles a reliable 85th percentile needs: every page showing it must say so. */
const VEHICLES = 40;

/** A black-and-white checkerboard: sharp edges like a number plate's, so a blur shows as lost contrast. */
function checkerboard(width: number, height: number, square: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) pixels.fill((Math.floor(x / square) + Math.floor(y / square)) % 2 ? 255 : 0, (y * width + x) * 3, (y * width + x + 1) * 3);
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

const contrast = async (image: Buffer) => (await sharp(image).greyscale().stats()).channels[0]!.stdev;

describe('everyday usability in a browser', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let viewer: SignedIn;
  let radarId: string;
  let coldSiteId: string;
  let photoEventId: string;
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Sanca Foods')]);
    const cold = await owner.client.post('/api/v1/sites', { name: 'Cold store', timezone: 'Europe/Madrid' });
    coldSiteId = cold.body.id;
    const street = await owner.client.post('/api/v1/sites', { name: 'Main Street', timezone: 'Europe/Madrid' });
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 1', serial: 'PS-F1', siteId: cold.body.id });
    assert.equal(fridge.status, 201, JSON.stringify(fridge.body));
    const radar = await owner.client.post('/api/v1/devices', {
      kind: 'speed_radar', name: 'Main Street radar', serial: 'RR-77', siteId: street.body.id, speedLimit: 30, speedUnits: 'mph', lat: 40.4168, lon: -3.7038,
    });
    assert.equal(radar.status, 201, JSON.stringify(radar.body));
    radarId = radar.body.device.id;
    assert.equal((await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Gate camera', serial: 'CAM-9', siteId: street.body.id })).status, 201);
    viewer = await app.member(owner, 'viewer', [cold.body.id]);

    // Vehicles over the last days, every fifth one speeding; the newest speeder carries a photo.
    const now = Date.now();
    const events = Array.from({ length: VEHICLES }, (_, i) => ({ ts: new Date(now - (i + 1) * 3 * HOUR).toISOString(), kind: 'speed', speed: i % 5 === 0 ? 41 : 22 + (i % 6) }));
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': radar.body.apiKey }, payload: { events } });
    assert.equal(sent.statusCode, 200, sent.body);
    photoEventId = sent.json().events[0].id;
    await attachPhoto(radar.body.apiKey, photoEventId, await checkerboard(640, 480, 16));

    // A fridge too warm for long enough: an alert the owner acknowledges.
    await owner.client.post('/api/v1/alert-rules', {
      name: 'Too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 5, durationSeconds: 60, severity: 'major',
    });
    const items = Array.from({ length: 6 }, (_, i) => ({ ts: new Date(now - (5 - i) * 60_000).toISOString(), values: { temperature: 9 } }));
    const telemetry = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': fridge.body.apiKey }, payload: { items } });
    assert.equal(telemetry.statusCode, 200, telemetry.body);
    const [alert] = (await owner.client.get(`/api/v1/devices/${fridge.body.device.id}/alerts`)).body.items;
    assert.equal((await owner.client.post(`/api/v1/alerts/${alert.id}/acknowledge`, { comment: 'door left open, closed it' })).status, 200);

    assert.equal((await owner.client.patch('/api/v1/organization', { publicSharing: true })).status, 200);
    assert.equal((await owner.client.request('PUT', `/api/v1/devices/${radarId}/sharing`, { shared: true })).status, 200);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function attachPhoto(apiKey: string, eventId: string, jpeg: Buffer): Promise<void> {
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

  async function newPage(viewport = { width: 1280, height: 860 }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-GB', colorScheme: 'light' });
    contexts.push(context);
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    return page;
  }

  async function signedIn(who: SignedIn, target: string, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await newPage(viewport);
    await page.goto(`${server.url}/login?next=${encodeURIComponent(target)}`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === target.split('?')[0]);
    return page;
  }

  async function saveScreenshot(page: Page, name: string, fullPage = false): Promise<void> {
    fs.mkdirSync('docs/screenshots', { recursive: true });
    await page.screenshot({ path: `docs/screenshots/usability-${name}.png`, fullPage });
  }

  /** The overview once the device summary (which decides the kind-bound entries) has arrived. */
  async function overview(page: Page): Promise<{ nav: string[]; cards: string }> {
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await eventually(async () => assert.match(await page.getByRole('link', { name: /Devices offline/ }).innerText(), /^\d+\s/));
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();
    return { nav: nav.map((text) => text.trim()), cards: await page.locator('main').innerText() };
  }

  it('offers a viewer of a cold store no speed or camera pages and no speeding card; the owner with radars and cameras gets them', async () => {
    const page = await signedIn(viewer, '/dashboard');
    const seen = await overview(page);
    for (const absent of ['Speed statistics', 'Cameras', 'Safety violations', 'Challans']) assert.ok(!seen.nav.includes(absent), `viewer's navigation has no ${absent}: ${seen.nav.join(', ')}`);
    assert.ok(seen.nav.includes('Events'));
    assert.doesNotMatch(seen.cards, /Speeding in the last 24 h/);
    await saveScreenshot(page, 'viewer-navigation');

    const ownerPage = await signedIn(owner, '/dashboard');
    const owned = await overview(ownerPage);
    for (const present of ['Speed statistics', 'Cameras', 'Safety violations', 'Challans']) assert.ok(owned.nav.includes(present), `owner's navigation has ${present}`);
    await ownerPage.getByRole('link', { name: /Speeding in the last 24 h/ }).waitFor();

    // Once the register holds a challan of the viewer's site, the viewer is offered it.
    const customer = await owner.client.post('/api/v1/customers', { name: 'Frost Foods', tag: 'FROST' });
    assert.equal((await owner.client.post('/api/v1/challans', { customerId: customer.body.id, siteId: coldSiteId, description: '40 crates of ice cream' })).status, 201);
    const again = await signedIn(viewer, '/dashboard');
    assert.ok((await overview(again)).nav.includes('Challans'), "the viewer's navigation has Challans once one is visible to them");
  });

  it('on a 390 px phone: events before their folded filters, "Last seen" in the devices table, a fitting /stats heatmap with a legend', async () => {
    const page = await signedIn(owner, '/events', PHONE);
    const firstRow = page.locator('table tbody tr').first();
    await firstRow.waitFor();
    const filters = page.getByRole('form', { name: 'Filter events' });
    assert.equal(await filters.isVisible(), false, 'the filters are folded');
    const row = (await firstRow.boundingBox())!;
    assert.ok(row.y + row.height <= PHONE.height, `the first event is on the first screen (its bottom at ${row.y + row.height} px)`);
    await saveScreenshot(page, 'phone-events');
    // A time cell is its date over its clock ("Dec 7, 2026" / "8:00:41 PM", the zone after it or below it), each
    // on one line, and the table fits the phone: not "Dec 7, / 2026, / 10:12:25 / AM GMT+1" as before.
    // Lines as drawn: a box's height over the line height (no named functions in here: tsx would wrap them in __name).
    const time = firstRow.locator('td').first().locator('time');
    const [whole, date, clock] = await time.evaluate((el) => {
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight);
      return [el, ...el.querySelectorAll('.time-run')].map((node) => Math.round(node.getBoundingClientRect().height / lineHeight));
    });
    assert.ok(whole! >= 2 && whole! <= 3, `the first event's time takes ${whole} lines`);
    assert.deepEqual([date, clock], [1, 1], 'its date and its clock each keep to one line');
    const eventsScroll = await page.locator('.table-wrap').first().evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.equal(eventsScroll, 0, 'the events table does not scroll sideways: its photos are in view');
    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling on /events');
    const toggle = page.getByRole('button', { name: /^Filters/ });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    await filters.getByLabel('Device').waitFor();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');

    await page.goto(`${server.url}/devices`);
    const lastSeen = page.getByRole('columnheader', { name: 'Last seen' });
    await lastSeen.waitFor();
    const header = (await lastSeen.boundingBox())!;
    assert.ok(header.x + header.width <= PHONE.width, `"Last seen" ends at ${header.x + header.width} px`);
    const tableScroll = await page.locator('.table-wrap').first().evaluate((el) => el.scrollWidth - el.clientWidth);
    assert.equal(tableScroll, 0, 'the devices table does not scroll sideways');
    assert.equal(await horizontalOverflow(page), 0);

    await page.goto(`${server.url}/stats?subject=device:${radarId}`);
    const heatmap = page.getByRole('region', { name: 'Vehicles by weekday and hour' });
    await heatmap.waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'no sideways scrolling on /stats');
    assert.equal(await heatmap.evaluate((el) => el.scrollWidth - el.clientWidth), 0, 'the 24 hours fit without scrolling the heatmap');
    const hourLabel = await heatmap.locator('thead th').last().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(hourLabel >= 10, `an hour label is ${hourLabel} px`);
    // Chart text as drawn: the font size times the SVG's scale on the screen.
    const chartText = await page.locator('figure.chart svg').first().evaluate((svg: SVGSVGElement) => {
      const text = svg.querySelector('text')!;
      return parseFloat(getComputedStyle(text).fontSize) * (svg.getBoundingClientRect().width / svg.viewBox.baseVal.width);
    });
    assert.ok(chartText >= 10, `a chart's axis text is ${chartText.toFixed(1)} px`);
    // A day's bar names its day in the organization's locale (en-US), not as ISO text.
    const dayBar = await page.locator('figure.chart', { hasText: 'Vehicles per day' }).locator('rect.chart-bar title').first().textContent();
    assert.match(dayBar ?? '', /^[A-Z][a-z]{2} \d{1,2}, \d{4}: \d+ vehicles?, mean/);
    await heatmap.getByRole('img', { name: /^Shade scale: lightest no traffic, darkest \d+ vehicles?$/ }).waitFor();
    await heatmap.scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'phone-stats');
  });

  it('paints the sidebar down to the bottom of a long page on a desktop', async () => {
    const page = await signedIn(owner, `/stats?subject=device:${radarId}`);
    await page.getByRole('region', { name: 'Vehicles by weekday and hour' }).waitFor();
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height > 1600, `a long page (${height} px)`);
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const nav = await page.getByRole('navigation', { name: 'Main' }).evaluate((el) => el.getBoundingClientRect().bottom);
    assert.ok(nav >= (await page.evaluate(() => window.innerHeight)) - 1, 'at the end of the page the sidebar reaches the window\'s bottom');
    // The whole page as an image: the sidebar's column is white (the surface) at the very bottom, the content's grey.
    const shot = await page.screenshot({ fullPage: true });
    const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)].join(',');
    assert.equal(pixel(220, info.height - 4), '255,255,255', 'the sidebar column at the bottom of the page');
    assert.notEqual(pixel(info.width - 4, info.height - 4), '255,255,255', 'the content beside it has the page background');
  });

  it('shows the sign-in page signed out without a console message or a failed request', async () => {
    const page = await newPage();
    const noise: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') noise.push(`${message.type()}: ${message.text()}`);
    });
    page.on('requestfailed', (request) => noise.push(`failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) noise.push(`${response.status()}: ${response.url()}`);
    });
    await page.goto(`${server.url}/login`, { waitUntil: 'networkidle' });
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(noise, []);
  });

  it('shows a radar\'s statistics on its own page, with the small-sample caveat and a link to /stats', async () => {
    const page = await signedIn(owner, `/devices/${radarId}`);
    const panel = page.getByRole('region', { name: 'Speed statistics' });
    await panel.getByText('85th percentile', { exact: true }).waitFor();
    const text = await panel.innerText();
    assert.match(text, new RegExp(`Vehicles \\(last 30 days\\)\\s+${VEHICLES}\\b`));
    assert.match(text, new RegExp(`from ${VEHICLES} vehicles: too few vehicles for a reliable 85th percentile`));
    await panel.getByRole('link', { name: 'Full statistics of this radar' }).click();
    await page.waitForURL(`**/stats?subject=device:${radarId}`);
    await page.getByRole('heading', { name: 'Summary' }).waitFor();
  });

  it('names the device and the changed fields in the audit log, and records the alert acknowledgement', async () => {
    const page = await signedIn(owner, `/devices/${radarId}`);
    await page.getByRole('button', { name: 'Edit settings' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Main Street radar (north)');
    await page.getByLabel('Speed limit (mph)').fill('35');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Main Street radar (north)', level: 1 }).waitFor();

    await page.goto(`${server.url}/admin/audit`);
    const log = page.getByRole('region', { name: 'Audit log' });
    const updated = log.locator('tr', { hasText: 'device.updated' });
    await updated.waitFor();
    const updateText = await updated.innerText();
    assert.match(updateText, /Main Street radar \(north\)/);
    assert.match(updateText, /Changed: name, speed limit/);
    assert.doesNotMatch(updateText, /\b[0-9a-f]{8}\b/, 'no UUID prefix in place of a name');
    const acknowledged = await log.locator('tr', { hasText: 'alert.acknowledged' }).innerText();
    assert.match(acknowledged, /temperature/i, 'the alert named by its message');
    assert.match(acknowledged, /door left open, closed it/);
    assert.match(acknowledged, new RegExp(owner.email.replace(/[.+]/g, '\\$&')));
  });

  it('shows public photos only when the organization opts in, blurred, and states the small sample', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/public/devices/${radarId}`);
    await page.getByText(new RegExp(`from ${VEHICLES} vehicles: too few vehicles for a reliable 85th percentile`)).waitFor();
    const speeders = page.locator('table tbody tr');
    await eventually(async () => assert.ok((await speeders.count()) > 0));
    assert.equal(await page.locator('img.public-photo').count(), 0, 'no photo without the opt-in');

    assert.equal((await owner.client.patch('/api/v1/organization', { publicPhotos: true })).status, 200);
    await page.reload();
    const photo = page.locator('img.public-photo').first();
    await photo.waitFor();
    await eventually(async () => assert.ok(await photo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)));
    const served = await page.request.get(new URL((await photo.getAttribute('src'))!, server.url).toString());
    assert.equal(served.status(), 200);
    // The organization's own thumbnail of the same event, as its members see it.
    const original = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/events/${photoEventId}/photo?size=thumb`, headers: { cookie: owner.client.cookie! } });
    assert.equal(original.statusCode, 200);
    const [sharpContrast, publicContrast] = [await contrast(original.rawPayload), await contrast(await served.body())];
    assert.ok(publicContrast < sharpContrast / 2, `the public photo is blurred (contrast ${publicContrast.toFixed(0)} against ${sharpContrast.toFixed(0)})`);
  });

  it('raised no script error', async () => {
    for (const context of contexts) for (const open of context.pages()) await open.close();
    assert.deepEqual(errors, []);
  });
});
