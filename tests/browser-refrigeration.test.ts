/**
 * A refrigeration unit's page in a real browser (Debian's Chromium, playwright-core): the manager sets the
 * safe range in the device settings (a wrong range answered at its field), the temperature chart then
 * shows the range as a band and the excursion shaded with units on its axis, temperature leads the charts,
 * door and compressor are drawn as on/off timelines with door-open durations; the alert is resolved with
 * its corrective action, shown in its timeline. Screenshots go to test-artifacts/browser/ (refrigeration-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { chromiumAvailable, CHROMIUM, ensureWebBuild, launchBrowser, OFFLINE_TILES, screenshot, serveConsole, watchErrors, type ConsoleServer } from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('refrigeration unit page in a browser', { skip, timeout: 180_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let fridge: string;
  let sparse: string;
  let alertId: string;

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Sanca Foods')]);
    const site = (await owner.client.post('/api/v1/sites', { name: 'Branch Centro', timezone: 'Europe/Madrid' })).body.id;
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Cold room too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 300, severity: 'critical', autoResolve: false,
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 1', serial: 'CR-1', siteId: site });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    fridge = created.body.device.id;
    // The last three hours, a reading a minute: 3 °C with the compressor cycling every 8 minutes, the door
    // open for 4 minutes at 90 and 6 at 40 minutes ago, and 20 minutes at 9.5 °C from 70 minutes ago.
    const now = Date.now();
    const items = [];
    for (let m = 180; m >= 1; m--) {
      const door = (m <= 90 && m > 86) || (m <= 40 && m > 34) ? 1 : 0;
      const temperature = m <= 70 && m > 50 ? 9.5 : 3 + (m % 8) / 10;
      items.push({ ts: new Date(now - m * 60_000).toISOString(), values: { temperature, pressure: 120 + (m % 8) * 5, door, compressor: m % 8 < 4 ? 1 : 0 } });
    }
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': created.body.apiKey }, payload: { items } });
    assert.equal(sent.statusCode, 200, sent.body);
    alertId = (await owner.client.get(`/api/v1/devices/${fridge}/alerts`)).body.items[0].id;
    // A unit with two readings an hour apart: its time axis spans the chosen range, not years.
    const few = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer 2', serial: 'FZ-2', siteId: site, settings: { safeRange: { min: -25, max: -15 } } });
    sparse = few.body.device.id;
    await app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': few.body.apiKey },
      payload: { items: [{ ts: new Date(now - 3_600_000).toISOString(), values: { temperature: -18 } }, { ts: new Date(now - 60_000).toISOString(), values: { temperature: -17.5 } }] },
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function signedIn(next: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/Madrid' });
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors = watchErrors(page);
    await page.goto(`${server.url}${next}`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**${next}`);
    return { page, errors };
  }

  it('sets the safe range in the device settings and sees the band and the excursion; states as timelines; units on the charts', async () => {
    const { page, errors } = await signedIn(`/devices/${fridge}`);
    const charts = page.locator('figure.chart');
    await charts.first().waitFor();
    assert.deepEqual(await charts.locator('h3').allTextContents(), ['Temperature (°C)', 'Pressure (psi)', 'Door', 'Compressor']);
    const temperature = page.locator('figure[data-metric="temperature"]');
    await temperature.locator('canvas').first().waitFor();
    assert.doesNotMatch(await temperature.locator('figcaption').textContent() ?? '', /safe range/);

    await page.getByRole('button', { name: 'Set the safe range' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Lowest safe temperature (°C)').fill('8');
    await dialog.getByLabel('Highest safe temperature (°C)').fill('2');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByText('The highest safe temperature must be above the lowest.').waitFor();
    await dialog.getByLabel('Lowest safe temperature (°C)').fill('0');
    await dialog.getByLabel('Highest safe temperature (°C)').fill('5');
    await dialog.getByLabel('Pressure unit').selectOption('bar');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });

    await page.locator('figure[data-metric="pressure"] h3', { hasText: 'Pressure (bar)' }).waitFor();
    const caption = temperature.locator('figcaption');
    await caption.getByText('1 excursion outside the safe range 0 °C to 5 °C').waitFor();
    assert.match(await caption.textContent() ?? '', /highest 9\.5 °C/);
    assert.equal(await temperature.getByRole('img', { name: /with the safe range/ }).count(), 1);

    const door = page.locator('figure[data-metric="door"]');
    assert.equal(await door.getAttribute('data-kind'), 'state');
    assert.equal(await door.locator('svg').getAttribute('data-state-spells'), '2');
    assert.match(await door.locator('.chart-figures').textContent() ?? '', /Open 2 times, 10 min in total .* Longest: \d\d:\d\d for 6 min, \d\d:\d\d for 4 min\./);
    const compressor = page.locator('figure[data-metric="compressor"]');
    assert.equal(await compressor.locator('canvas').count(), 0);
    assert.match(await compressor.locator('.chart-figures').textContent() ?? '', /On \d+ times?, .* \((4\d|5\d) % of the time reported\)/);
    await page.locator('#telemetry-heading').scrollIntoViewIfNeeded();
    await screenshot(page, 'refrigeration-unit', true);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('draws a unit with two readings over the chosen range, not over years', async () => {
    const { page, errors } = await signedIn(`/devices/${sparse}`);
    const temperature = page.locator('figure[data-metric="temperature"]');
    await temperature.locator('canvas').first().waitFor();
    // uPlot writes its x range into the cursor's scale: the axis spans the 24 hours asked for.
    const span = await page.evaluate(() => {
      const axis = [...document.querySelectorAll('figure[data-metric="temperature"] .u-axis')][0] as HTMLElement | undefined;
      return axis ? axis.textContent : null;
    });
    assert.ok(span === null || !/202[7-9]/.test(span));
    await temperature.getByText(/Inside the safe range -25 °C to -15 °C throughout\./).waitFor();
    await temperature.scrollIntoViewIfNeeded();
    await screenshot(page, 'refrigeration-sparse', false);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('resolves the alert with the corrective action, shown in its timeline', async () => {
    const { page, errors } = await signedIn(`/alerts/${alertId}`);
    await page.getByRole('heading', { level: 1, name: /temperature is 9\.5 °C \(limit 8 °C\)/ }).waitFor();
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.getByLabel('Corrective action').fill('Stock moved to cold room 2; door seal replaced');
    await page.getByRole('dialog').getByRole('button', { name: 'Resolve' }).click();
    await page.getByText('Corrective action: “Stock moved to cold room 2; door seal replaced”').waitFor();
    await screenshot(page, 'refrigeration-alert-resolved', true);
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
