/**
 * The rule editor in a real browser for text and on/off values: each kind of value offers only its
 * operators, a text rule takes the text to compare with, a "changes" rule has no duration, the
 * 7-day preview replays both, and a device rule picks the operators of how that device sends the key. Screenshot: test-artifacts/browser/alerts-text-rule-editor.png.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { chromiumAvailable, CHROMIUM, ensureWebBuild, launchBrowser, OFFLINE_TILES, screenshot, seriousA11yViolations, serveConsole, watchErrors, type ConsoleServer } from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('text and on/off alert rules in the editor', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Cold chain')]);
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 7', serial: 'CR-7' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const items = [
      { ts: hoursAgo(5), values: { mode: 'cooling', door: false } },
      { ts: hoursAgo(4), values: { mode: 'defrost', door: true } },
      { ts: hoursAgo(3), values: { mode: 'cooling', door: false } },
    ];
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': created.body.apiKey }, payload: { items } });
    assert.equal(sent.statusCode, 200, sent.body);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  it('offers the operators of each kind of value, previews a text rule and saves a "changes" rule', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors = watchErrors(page);
    await page.goto(`${server.url}/alerts/rules`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New alert rule' });
    const operators = async () => (await dialog.getByLabel('Is', { exact: true }).locator('option').allTextContents());

    await dialog.getByLabel('When', { exact: true }).selectOption('flag');
    assert.deepEqual(await operators(), ['true (on)', 'false (off)']);
    assert.equal(await dialog.getByLabel('Threshold').count(), 0, 'an on/off value has no threshold');

    await dialog.getByLabel('When', { exact: true }).selectOption('text');
    assert.deepEqual(await operators(), ['equal to', 'not equal to', 'changes (any new value)']);
    await dialog.getByLabel('Name', { exact: true }).fill('Defrost cycle');
    await dialog.getByLabel('Metric', { exact: true }).fill('mode');
    await dialog.getByLabel('Text', { exact: true }).fill('defrost');
    await dialog.getByLabel('For at least').fill('10');
    await dialog.getByRole('button', { name: 'Preview last 7 days' }).click();
    await dialog.getByText(/Over the last 7 days it would have opened 1 alert on 1 device/).waitFor();
    await dialog.getByText(/value “defrost”/).waitFor();

    await dialog.getByLabel('Is', { exact: true }).selectOption('changes');
    assert.equal(await dialog.getByLabel('Text', { exact: true }).count(), 0, 'a change compares with the value before');
    assert.equal(await dialog.getByLabel('For at least').count(), 0, 'a change is an instant');
    await dialog.getByRole('button', { name: 'Preview last 7 days' }).click();
    await dialog.getByText(/it would have opened 2 alerts/).waitFor();
    await dialog.getByText('“defrost” → “cooling”').waitFor();
    await screenshot(page, 'alerts-text-rule-editor');
    assert.deepEqual(await seriousA11yViolations(page), []);

    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('row', { name: /Defrost cycle/ }).getByText('mode changes').waitFor();

    // A device rule knows how that device sends each key: text gets the text operators by itself.
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const next = page.getByRole('dialog', { name: 'New alert rule' });
    await next.getByLabel('Scope', { exact: true }).selectOption('device');
    await next.getByLabel('Device', { exact: true }).selectOption({ label: 'Cold room 7' });
    await next.getByLabel('Metric', { exact: true }).fill('mode');
    await next.getByLabel('Text', { exact: true }).waitFor();
    assert.equal(await next.getByLabel('When', { exact: true }).inputValue(), 'text');
    await next.getByLabel('Metric', { exact: true }).fill('door');
    await next.getByLabel('Threshold').waitFor();
    assert.equal(await next.getByLabel('When', { exact: true }).inputValue(), 'metric');
    await context.close();
    assert.deepEqual(errors, []);
  });
});
