/**
 * The /stats page in a real browser (Debian's Chromium via playwright-core) against a real Vigil:
 * picking a device and a period, the figures matching the API, the empty state, a before/after
 * comparison, a 390 px phone, the dark theme, print, and axe-core.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, horizontalOverflow, launchBrowser, screenshot, serveConsole, seriousA11yViolations, watchErrors,
  type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;
const DAY = 86_400_000;

describe('speed statistics page', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let radar: string;
  const errors: string[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Elm Street Residents')]);
    const site = await owner.client.post('/api/v1/sites', { name: 'Elm Street', timezone: 'America/Chicago' });
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Elm Street radar', serial: 'ELM-1', siteId: site.body.id, speedLimit: 25 });
    radar = created.body.device.id;
    // 600 vehicles over the last 12 days; every 4th one over the limit.
    const now = Date.now();
    const events = Array.from({ length: 600 }, (_, i) => ({
      client_ref: `e${i}`, ts: new Date(now - 12 * DAY + i * ((12 * DAY) / 600)).toISOString(), kind: 'speed', speed: i % 4 === 0 ? 31 + (i % 9) : 18 + (i % 7),
    }));
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
    assert.equal(response.json().accepted, 600);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function signedInPage(width = 1280, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: 'en-US', colorScheme });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}/login?next=%2Fstats`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/stats');
    return page;
  }

  it('shows a device\'s 85th percentile, pace and share over the limit as the API computes them', async () => {
    const page = await signedInPage();
    await page.getByRole('heading', { name: 'Speed statistics', level: 1 }).waitFor();
    await page.getByLabel('Devices').selectOption({ label: 'Elm Street radar' });
    await page.getByLabel('Period', { exact: true }).selectOption({ label: 'Last 30 days' });
    await page.getByRole('heading', { name: 'Summary' }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('subject'), `device:${radar}`);

    const stats = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar}&from=${new Date(Date.now() - 40 * DAY).toISOString()}`)).body;
    const summary = page.getByRole('region', { name: 'Summary' });
    const text = await summary.innerText();
    assert.match(text, new RegExp(`${stats.summary.p85.toFixed(1)} mph\\s+85th percentile`));
    assert.match(text, new RegExp(`${stats.summary.pace.from}–${stats.summary.pace.to} mph`));
    assert.match(text, /25\.0%\s+Over the limit/);
    assert.match(text, /600\s+Vehicles measured/);
    await page.getByRole('img', { name: /Vehicles per 1 mph bin/ }).waitFor();
    await page.getByRole('table', { name: 'Vehicles by weekday and hour' }).waitFor();
    await screenshot(page, 'stats-device');
    assert.deepEqual(await seriousA11yViolations(page), []);

    // Print: the navigation and the controls go, the figures stay.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false);
    assert.equal(await page.getByLabel('Devices').isVisible(), false);
    assert.equal(await summary.isVisible(), true);
    await screenshot(page, 'stats-print');
    await page.context().close();
  });

  it('says so when a period has no speeds, and compares two periods in plain words', async () => {
    const page = await signedInPage();
    await page.goto(`${server.url}/stats?subject=device:${radar}&period=custom&from=2020-01-01&to=2020-01-31`);
    await page.getByRole('heading', { name: 'No speeds in this period' }).waitFor();
    assert.match(await page.getByText(/No speeds were recorded for Elm Street radar/).innerText(), /in this range/);

    const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
    const compare = page.getByRole('form', { name: 'Periods to compare' });
    await compare.getByLabel('From').nth(0).fill(day(-12));
    await compare.getByLabel('To').nth(0).fill(day(-7));
    await compare.getByLabel('From').nth(1).fill(day(-6));
    await compare.getByLabel('To').nth(1).fill(day(0));
    await compare.getByRole('button', { name: 'Compare' }).click();
    const table = page.getByRole('table', { name: 'Each figure before and after' });
    await table.waitFor();
    assert.match(await page.getByRole('region', { name: 'Before and after' }).innerText(), /85th-percentile speed/);
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.context().close();
  });

  it('fits a 390 px phone and stays accessible in the dark theme', async () => {
    const page = await signedInPage(390, 'dark');
    await page.goto(`${server.url}/stats?subject=device:${radar}`);
    await page.getByRole('heading', { name: 'Summary' }).waitFor();
    assert.equal(await horizontalOverflow(page), 0);
    await screenshot(page, 'stats-phone-dark');
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.context().close();
  });

  it('raised no script error', () => {
    assert.deepEqual(errors, []);
  });
});
