/**
 * The alert inbox in a real browser: live arrival, acknowledging with a comment, what a viewer sees,
 * a phone-sized screen, dark theme, and axe-core.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot, serveConsole,
  seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('alert inbox in a browser', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let operator: SignedIn;
  let viewer: SignedIn;
  const units: { id: string; key: string }[] = [];
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  async function overheat(key: string, value: number): Promise<void> {
    const items = [-6, -5, -4, -3, -2, -1].map((m) => ({ ts: minutes(m), values: { temperature: value } }));
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
  }

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Sanca')]);
    operator = await app.member(owner, 'operator');
    viewer = await app.member(owner, 'viewer');
    for (const name of ['Freezer A', 'Freezer B']) {
      const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name, serial: name.replace(' ', '-') });
      units.push({ id: created.body.device.id, key: created.body.apiKey });
    }
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Freezer too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: -15,
      durationSeconds: 120, severity: 'critical', messageTemplate: '{{device}} at {{value}} °C',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    await overheat(units[0]!.key, -9);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
    assert.deepEqual(errors, [], 'no console errors');
  });

  async function signedInPage(who: SignedIn, options: { width?: number; dark?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 860 }, locale: 'en-US', colorScheme: options.dark ? 'dark' : 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}/login?next=%2Falerts`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/alerts');
    return page;
  }

  it('an operator sees alerts arrive live and acknowledges one with a comment', async () => {
    const page = await signedInPage(operator);
    const table = page.getByRole('region', { name: 'Alerts' });
    await table.getByRole('cell', { name: /^Freezer A at -9 °C/ }).waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the inbox');
    await screenshot(page, 'alerts');

    await overheat(units[1]!.key, -7);
    await table.getByRole('cell', { name: /^Freezer B at -7 °C/ }).waitFor();

    await page.getByRole('button', { name: 'Acknowledge: Freezer A at -9 °C' }).click();
    const dialog = page.getByRole('dialog', { name: 'Acknowledge alert' });
    await dialog.getByLabel('Comment (optional)').fill('Door closed, checking again at noon');
    await dialog.getByRole('button', { name: 'Acknowledge' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('“Door closed, checking again at noon”').waitFor();
    const stored = await owner.client.get(`/api/v1/devices/${units[0]!.id}/alerts`);
    assert.equal(stored.body.items[0].status, 'acknowledged');
    assert.equal(stored.body.items[0].acknowledgedBy, operator.userId);

    await table.getByRole('link', { name: 'Freezer A at -9 °C' }).click();
    await page.waitForURL(`**/alerts/${stored.body.items[0].id}`);
    await page.getByRole('heading', { name: 'Freezer A at -9 °C', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Temperature around the alert' }).waitFor();
    await page.getByText('“Door closed, checking again at noon”').waitFor();
    await page.locator('.u-wrap, canvas').first().waitFor();
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the alert page');
    await screenshot(page, 'alert-detail');
  });

  it('a viewer reads the inbox without acknowledge controls; it fits a phone and the dark theme', async () => {
    const page = await signedInPage(viewer, { width: 390, dark: true });
    await page.getByRole('region', { name: 'Alerts' }).getByRole('cell', { name: /^Freezer A at -9 °C/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Acknowledge/ }).count(), 0);
    assert.equal(await horizontalOverflow(page), 0, 'the inbox overflows a phone');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the dark phone inbox');
    await screenshot(page, 'phone-alerts-dark');
  });
});
