/**
 * The zone editor without a pointer: an admin draws a zone with the arrow keys and Enter, takes a corner
 * back with Backspace, moves a corner of the finished shape with Tab and the arrow keys, and saves; the
 * camera's settings hold exactly the corners placed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { chromiumAvailable, CHROMIUM, ensureWebBuild, launchBrowser, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer } from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('drawing zones with the keyboard', { skip, timeout: 120_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let cameraId: string;
  const errors: string[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Keyboard Builders')]);
    const site = await owner.client.post('/api/v1/sites', { name: 'North yard', timezone: 'Europe/London' });
    const created = await owner.client.post('/api/v1/devices', { kind: 'camera', name: 'Yard camera', serial: 'YARD-1', siteId: site.body.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    cameraId = created.body.device.id;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await app?.close();
    assert.deepEqual(errors, [], 'no page errors');
  });

  async function signedIn(target: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}${target}`);
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password', { exact: true }).fill(owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**${target}`);
    return page;
  }

  const press = async (page: Page, key: string, times = 1) => {
    for (let i = 0; i < times; i++) await page.keyboard.press(key);
  };

  it('places corners with the arrow keys and Enter, moves one with Tab and the arrows, and saves them', async () => {
    const page = await signedIn(`/cameras/${cameraId}`);
    await page.getByText('No picture: no worker decodes this camera.', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Draw a zone' }).focus();
    await page.keyboard.press('Enter');
    const canvas = page.getByTestId('zone-canvas');
    assert.ok(await canvas.evaluate((element) => element === document.activeElement), 'the canvas takes the focus when drawing starts');
    assert.equal(await page.getByTestId('zone-cross').count(), 0, 'no cross before a key moves it');

    // The cross starts in the middle; Shift moves it by a tenth of the picture.
    await press(page, 'Shift+ArrowLeft', 2);
    await press(page, 'Shift+ArrowUp', 2);
    await page.getByText('0 corners; at least 3. Cross at 30%, 30%.').waitFor();
    await page.keyboard.press('Enter');
    await press(page, 'Shift+ArrowRight', 4);
    await page.keyboard.press('Enter');
    await press(page, 'ArrowDown', 5);
    await page.keyboard.press(' ');
    await page.getByText('3 corners; at least 3.', { exact: false }).waitFor();
    // The third corner was wrong: Backspace takes it back, and it is placed again lower down.
    await page.keyboard.press('Backspace');
    await page.getByText('2 corners; at least 3.', { exact: false }).waitFor();
    await press(page, 'Shift+ArrowDown', 3);
    await page.keyboard.press('Enter');
    await page.getByText('3 corners; at least 3. Cross at 70%, 65%.').waitFor();
    assert.deepEqual(await seriousA11yViolations(page), []);

    await page.getByRole('button', { name: 'Finish shape' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByLabel('Zone name').inputValue(), 'Zone 1');

    // The new shape is selected: its corners take the focus and move with the arrow keys.
    const first = page.getByRole('button', { name: /^Corner 1 of Zone 1 at 30%, 30%/ });
    await first.focus();
    await press(page, 'ArrowDown', 5);
    await page.getByRole('button', { name: /^Corner 1 of Zone 1 at 30%, 35%/ }).waitFor();

    await page.getByLabel('Zone name').fill('Scaffold');
    await page.getByRole('button', { name: 'Save detection settings' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Detection settings saved.').waitFor();
    const saved = (await owner.client.get(`/api/v1/cameras/${cameraId}`)).body.detection;
    assert.deepEqual(saved.zones, [{ name: 'Scaffold', polygon: [[0.3, 0.35], [0.7, 0.3], [0.7, 0.65]] }]);
    await page.close();
  });
});
