/**
 * The safety pages in a real browser. Violations are seeded through the detection's own evidence path (one
 * event per incident written through ingest as the camera's device, with its photo and crop): the feed lists
 * them with thumbnails, filters narrow it and live in the address, an operator acknowledges the selected ones
 * with a comment while a viewer sees no control, a new violation arrives without a reload; an admin draws a
 * zone with mouse clicks over the picture of a camera streaming from a loopback RTSP server, saves it, and
 * the live view's overlay shows it, while a camera nobody decodes asks for no picture; a phone draws with
 * taps and gets cards without sideways scrolling; the statistics page draws. Screenshots:
 * docs/screenshots/violations.png, docs/screenshots/zone-editor.png and test-artifacts/browser/violation*.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { DevicePrincipal } from '../src/server/core/access.js';
import type { Incident } from '../src/server/detection/rules.js';
import { ViolationRecorder } from '../src/server/detection/violations.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, screenshot,
  serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';
import { makeClip, RtspResponder, tempDir } from './helpers/rtsp.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

/** A 320 × 240 frame with a person-sized block, so each thumbnail shows something. */
const frame = (r: number, g: number, b: number) => sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 200, b: 190 } } })
  .composite([{ input: { create: { width: 60, height: 150, channels: 3, background: { r, g, b } } }, left: 130, top: 60 }]).jpeg().toBuffer();

describe('safety violations in a browser', { skip, timeout: 240_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let operator: SignedIn;
  let viewer: SignedIn;
  const cameras = {} as { gate: DevicePrincipal; crane: DevicePrincipal };
  const errors: string[] = [];
  let seeded = 0;
  let folder: string;
  let responder: RtspResponder;

  async function camera(name: string, siteId: string): Promise<DevicePrincipal> {
    const created = await owner.client.post('/api/v1/devices', { kind: 'camera', name, serial: name.toUpperCase().replace(/\W/g, '-'), siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { deviceId: created.body.device.id, keyId: '', orgId: owner.orgId, siteId, kind: 'camera', name, serial: created.body.device.serial, speedLimit: null, speedUnits: null, timezone: 'Europe/London' };
  }

  /** One incident opened as the camera's worker records it: the event with its photo and padded crop. */
  async function violation(device: DevicePrincipal, rule: Incident['rule'], zoneName?: string) {
    seeded++;
    const recorder = new ViolationRecorder(app.runtime.ctx, app.runtime.services.ingest, app.runtime.services.photos, device, () => {});
    const start = Date.now() - (10 - seeded) * 60_000;
    const box = { x1: 130, y1: 60, x2: 190, y2: 210 };
    const incident: Incident = {
      id: crypto.randomUUID(), rule, eventType: rule === 'zone_breach' ? 'zone_breach' : 'ppe_violation',
      severity: rule === 'zone_breach' ? 'critical' : rule === 'no_hardhat' ? 'high' : 'medium', trackId: seeded, zoneName,
      startedAt: start, lastSeenAt: start, box, confidence: 0.91, snapshot: { at: start, box, score: 0.91, touchesEdge: false }, frames: 3,
    };
    await recorder.record([{ kind: 'open', incident, snapshotChanged: true }], await frame(40 + seeded * 30, 90, 200 - seeded * 20));
  }

  before(async () => {
    ensureWebBuild();
    folder = tempDir();
    responder = await RtspResponder.start({ clip: makeClip(folder) });
    app = await startTestApp();
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Hard Hat Builders')]);
    [operator, viewer] = await Promise.all([app.member(owner, 'operator'), app.member(owner, 'viewer')]);
    const site = await owner.client.post('/api/v1/sites', { name: 'Riverside Build', timezone: 'Europe/London' });
    cameras.gate = await camera('Gate camera', site.body.id);
    cameras.crane = await camera('Crane camera', site.body.id);
    await violation(cameras.gate, 'no_hardhat');
    await violation(cameras.gate, 'no_vest');
    await violation(cameras.crane, 'zone_breach', 'Crane swing');
  });

  after(async () => {
    await app?.runtime.services.decoders.stopAll();
    await browser?.close();
    await server?.close();
    await app?.close();
    await responder?.stop();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
    // The one failure expected: the deliberate second zone of the same name (400 on the camera's PATCH).
    const duplicateZone = /status of 400 \(Bad Request\) \(http:\/\/[^)]+\/api\/v1\/cameras\/[^)/]+\)$/;
    assert.deepEqual(errors.filter((e) => !duplicateZone.test(e)), [], 'no console errors');
  });

  async function newPage(who: SignedIn, target: string, width = 1280, height = 900): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height }, locale: 'en-GB', timezoneId: 'Europe/London', hasTouch: width < 600 });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    await page.goto(`${server.url}${target}`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**${target}`);
    return page;
  }

  it('lists violations with thumbnails, narrows them by filters kept in the address, and takes new ones live', async () => {
    const page = await newPage(operator, '/violations');
    const cards = page.getByTestId('violation');
    await eventually(async () => assert.equal(await cards.count(), 3));
    await page.getByText('No hard hat', { exact: true }).waitFor();
    await page.getByText('In a restricted zone · Crane swing').waitFor();
    await eventually(async () => assert.ok(await page.locator('.violation-thumb img').first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)));

    await page.getByLabel('Type', { exact: true }).selectOption('zone_breach');
    await eventually(async () => assert.equal(await cards.count(), 1));
    assert.match(page.url(), /kind=zone_breach/);
    await page.reload();
    await eventually(async () => assert.equal(await cards.count(), 1));
    assert.equal(await page.getByLabel('Type', { exact: true }).inputValue(), 'zone_breach', 'the filter survives a reload');
    await page.getByLabel('Type', { exact: true }).selectOption('');
    await page.getByLabel('Camera', { exact: true }).selectOption({ label: 'Gate camera' });
    await eventually(async () => assert.equal(await cards.count(), 2));
    await page.getByLabel('Camera', { exact: true }).selectOption('');
    await eventually(async () => assert.equal(await cards.count(), 3));

    const started = Date.now();
    await violation(cameras.crane, 'no_hardhat');
    await eventually(async () => assert.equal(await cards.count(), 4), 10_000);
    const liveMs = Date.now() - started;
    console.log(`a new violation appeared in the feed ${liveMs} ms after it was written`);
    assert.ok(liveMs < 10_000);

    await page.getByRole('button', { name: /Show the picture of/ }).first().click();
    await eventually(async () => assert.ok(await page.locator('.violation-photo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 320)));
    await page.getByRole('button', { name: 'Close' }).click();
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.close();
  });

  it('lets an operator acknowledge the selected violations with a comment; a viewer only reads', async () => {
    const page = await newPage(operator, '/violations?acknowledged=false');
    const cards = page.getByTestId('violation');
    await eventually(async () => assert.equal(await cards.count(), 4));
    await page.getByLabel(/Select .* at Gate camera/).first().check();
    await page.getByLabel(/Select .* at Gate camera/).nth(1).check();
    await page.getByRole('button', { name: 'Acknowledge selected (2)' }).click();
    await page.getByLabel('Comment (what was done)').fill('Crew briefed at the gate');
    await page.getByRole('dialog').getByRole('button', { name: 'Acknowledge' }).click();
    await eventually(async () => assert.equal(await cards.count(), 2), 10_000);
    const listed = await owner.client.get('/api/v1/events?kind=ppe_violation,zone_breach&acknowledged=true');
    assert.deepEqual(listed.body.items.map((e: { acknowledgement: { comment: string } }) => e.acknowledgement.comment), ['Crew briefed at the gate', 'Crew briefed at the gate']);
    await page.getByLabel('Acknowledged', { exact: true }).selectOption('true');
    await page.getByText(/Acknowledged by .*: “Crew briefed at the gate”/).first().waitFor();
    fs.mkdirSync('docs/screenshots', { recursive: true });
    await page.getByLabel('Acknowledged', { exact: true }).selectOption('');
    await eventually(async () => assert.equal(await cards.count(), 4));
    await page.screenshot({ path: 'docs/screenshots/violations.png' });
    await page.close();

    const read = await newPage(viewer, '/violations');
    await eventually(async () => assert.equal(await read.getByTestId('violation').count(), 4));
    assert.equal(await read.getByRole('button', { name: /^Acknowledge/ }).count(), 0, 'a viewer gets no acknowledge button');
    assert.equal(await read.getByRole('checkbox').count(), 0, 'nor a selection');
    await read.close();
  });

  it('shows cards on a phone without sideways scrolling, and the statistics page', async () => {
    const page = await newPage(operator, '/violations', 390, 844);
    await eventually(async () => assert.equal(await page.getByTestId('violation').count(), 4));
    assert.equal(await horizontalOverflow(page), 0);
    await screenshot(page, 'violations-phone');
    await page.goto(`${server.url}/violations/statistics`);
    await page.getByRole('heading', { name: 'Hours of the week' }).waitFor();
    await page.getByTestId('heatmap').waitFor();
    assert.equal(await horizontalOverflow(page), 0);
    await page.close();

    const desk = await newPage(owner, '/violations/statistics');
    await desk.getByTestId('heatmap').waitFor();
    const cells = await desk.locator('.heatmap td').evaluateAll((tds) => tds.reduce((sum, td) => sum + Number(td.textContent), 0));
    assert.equal(cells, 4, 'the heatmap counts the four violations');
    assert.deepEqual(await seriousA11yViolations(desk), []);
    await screenshot(desk, 'violation-statistics');
    await desk.close();
  });

  /** Clicks (or taps) at fractions of the zone canvas, measured each time: filling a field may have scrolled the page. */
  async function corners(page: Page, points: readonly (readonly [number, number])[], tap = false) {
    const canvas = page.getByTestId('zone-canvas');
    // In the middle of the window: its top edge could be under the sticky top bar.
    await canvas.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    const box = (await canvas.boundingBox())!;
    for (const [x, y] of points) {
      const [px, py] = [box.x + x * box.width, box.y + y * box.height];
      await (tap ? page.touchscreen.tap(px, py) : page.mouse.click(px, py));
    }
    await page.getByText(`${points.length} corners; at least 3.`).waitFor();
  }

  it('lets an admin on a phone draw with taps over a camera nobody decodes, without asking it for a picture', async () => {
    const page = await newPage(owner, `/cameras/${cameras.crane.deviceId}`, 390, 844);
    const snapshots: string[] = [];
    page.on('request', (request) => { if (request.url().includes('/snapshot')) snapshots.push(request.url()); });
    await page.getByText('No picture: no worker decodes this camera. Shapes are drawn on a blank frame of the same proportions.').waitFor();
    await page.getByRole('button', { name: 'Draw a zone' }).click();
    await corners(page, [[0.2, 0.2], [0.8, 0.2], [0.5, 0.8]], true);
    await page.getByRole('button', { name: 'Finish shape' }).click();
    assert.equal(await page.getByLabel('Zone name').inputValue(), 'Zone 1');
    assert.equal(await horizontalOverflow(page), 0);
    await screenshot(page, 'violation-zone-editor-phone');
    assert.deepEqual(snapshots, [], 'no snapshot is asked of a camera without pictures');
    await page.close();
  });

  it('lets an admin draw a zone with mouse clicks on the camera\'s picture, save it, and see it over the live view', async () => {
    const gate = cameras.gate.deviceId;
    const patched = await owner.client.patch(`/api/v1/cameras/${gate}`, { rtspUrl: responder.url(), inferenceSize: 320, targetFps: 2 });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await app.runtime.services.decoders.start(gate);
    await eventually(async () => assert.equal((await owner.client.get(`/api/v1/cameras/${gate}`)).body.status, 'online'), 20_000);

    const page = await newPage(owner, `/cameras/${gate}`);
    await page.getByRole('heading', { name: 'Detection' }).waitFor();
    const decoded = (img: HTMLImageElement) => img.complete && img.naturalWidth > 0;
    await eventually(async () => assert.ok(await page.getByTestId('zone-picture').evaluate(decoded), 'the editor shows the camera\'s picture'), 10_000);
    await page.getByRole('button', { name: 'Draw a zone' }).click();
    const bay = [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]] as const;
    await corners(page, bay);
    await page.getByRole('button', { name: 'Finish shape' }).click();
    await page.getByLabel('Zone name').fill('Loading bay');
    await page.getByRole('button', { name: 'Draw a mask' }).click();
    await corners(page, [[0.7, 0.05], [0.95, 0.05], [0.95, 0.3]]);
    await page.getByRole('button', { name: 'Finish shape' }).click();
    await page.getByLabel('Detection mode').selectOption('zone');
    await page.getByRole('button', { name: 'Save detection settings' }).click();
    await page.getByText('Detection settings saved.').waitFor();
    const saved = (await owner.client.get(`/api/v1/cameras/${gate}`)).body.detection;
    assert.equal(saved.mode, 'zone');
    assert.equal(saved.zones.length, 1);
    assert.equal(saved.zones[0].name, 'Loading bay');
    saved.zones[0].polygon.forEach(([x, y]: number[], i: number) => {
      const [ex, ey] = bay[i]!;
      assert.ok(Math.abs(x! - ex) < 0.01 && Math.abs(y! - ey) < 0.01, `corner ${x},${y} near ${ex},${ey}`);
    });
    assert.equal(saved.masks.length, 1);
    await eventually(async () => assert.ok(await page.getByRole('img', { name: 'Live picture of Gate camera' }).evaluate(decoded), 'the live view plays'), 10_000);
    const overlay = page.getByTestId('zone-overlay');
    assert.equal(await overlay.getAttribute('aria-label'), 'Zones: Loading bay; 1 mask');
    assert.equal(await overlay.locator('text').textContent(), 'Loading bay');

    // A second zone of the same name: the server's refusal is shown at that zone's name.
    await page.getByRole('button', { name: 'Draw a zone' }).click();
    await corners(page, [[0.6, 0.6], [0.8, 0.6], [0.8, 0.8]]);
    await page.getByRole('button', { name: 'Finish shape' }).click();
    await page.getByLabel('Zone name').nth(1).fill('loading bay');
    await page.getByRole('button', { name: 'Save detection settings' }).click();
    await page.getByText(/names another zone of this camera already/).waitFor();
    assert.equal(await page.getByLabel('Zone name').nth(1).getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await seriousA11yViolations(page), []);
    await page.locator('#camera-detection-heading').scrollIntoViewIfNeeded();
    await page.locator('section[aria-labelledby="camera-detection-heading"]').screenshot({ path: 'docs/screenshots/zone-editor.png' });
    await screenshot(page, 'violation-camera-zones');
    await page.close();
  });
});
