/**
 * The alert pages in a real browser (Debian's Chromium, playwright-core) against a real Vigil: an
 * administrator writes a rule in the editor (a server complaint shown at its field, then the preview),
 * a refrigeration unit posts telemetry over the threshold through the device API, the alert appears in
 * an operator's inbox without a reload, the operator acknowledges it with a comment, the detail names
 * who acknowledged; a viewer gets no acknowledge controls; the notification channels page (and a
 * channel's digest setting); axe-core;
 * a 390 px phone in dark theme. Screenshots go to test-artifacts/browser/ (alerts-*.png).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

describe('alert pages in a browser', { skip, timeout: 180_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let operator: SignedIn;
  let viewer: SignedIn;
  let operatorName: string;
  let fridge: { id: string; apiKey: string };
  let alertPath: string;
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Polo Sanca Foods')]);
    const site = await owner.client.post('/api/v1/sites', { name: 'Branch Centro', timezone: 'America/Sao_Paulo' });
    assert.equal(site.status, 201, JSON.stringify(site.body));
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 1', serial: 'CR-1', siteId: site.body.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    fridge = { id: created.body.device.id, apiKey: created.body.apiKey };
    // A normal week so far: the rule's preview has readings to replay.
    const now = Date.now();
    const items = Array.from({ length: 24 }, (_, i) => ({ ts: new Date(now - (24 - i) * 3_600_000).toISOString(), values: { temperature: 4 } }));
    assert.equal((await postTelemetry(items)).statusCode, 200);
    [operator, viewer] = await Promise.all([app.member(owner, 'operator'), app.member(owner, 'viewer')]);
    operatorName = (await operator.client.get('/api/v1/auth/me')).body.user.name;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  function postTelemetry(items: object[]) {
    return app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': fridge.apiKey }, payload: { items } });
  }

  async function newPage(options: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, locale: 'en-GB', timezoneId: 'America/Sao_Paulo', colorScheme: options.colorScheme ?? 'light' });
    contexts.push(context);
    // No internet here: the overview's map tiles fail at once.
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    return page;
  }

  async function signIn(page: Page, who: SignedIn, next: string): Promise<void> {
    await page.goto(`${server.url}${next}`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**${next}`);
  }

  async function assertAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    assert.deepEqual(await seriousA11yViolations(page), [], `accessibility of ${name}`);
  }

  it('an administrator writes a rule: the server\'s complaint at its field, a preview, then the rule', async () => {
    const page = await newPage();
    await signIn(page, owner, '/alerts/rules');
    await page.getByText('No alert rules yet').waitFor();
    await page.getByRole('button', { name: 'New rule' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New alert rule' });
    await dialog.getByLabel('Name').fill('Cold room too warm');
    await dialog.getByLabel('Threshold').fill('8');
    await dialog.getByLabel('Clears past (optional)').fill('9');
    await dialog.getByLabel('For at least').fill('1');
    await dialog.getByLabel('Unit').selectOption('minutes');
    await dialog.getByLabel('Severity').selectOption('critical');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    // The clear threshold on the wrong side: said at the field, which is marked invalid.
    const clearField = dialog.getByLabel('Clears past (optional)');
    await dialog.getByText(/must be at or below the threshold/).waitFor();
    assert.equal(await clearField.getAttribute('aria-invalid'), 'true');
    await clearField.fill('6');

    await dialog.getByRole('button', { name: 'Preview last 7 days' }).click();
    await dialog.getByText(/Applies to 1 device\. Over the last 7 days it would have opened 0 alerts/).waitFor();
    await dialog.getByText('Cold room 1').waitFor();
    await assertAccessible(page, 'alerts-rule-editor');

    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule “Cold room too warm” created.' }).waitFor();
    const row = page.getByRole('row', { name: /Cold room too warm/ });
    await row.getByText('temperature > 8 for 1 min').waitFor();
    await assertAccessible(page, 'alerts-rules');
    await page.close();
  });

  it('the alert appears in an operator\'s inbox without a reload, is acknowledged with a comment, and the detail names who', async () => {
    const page = await newPage();
    await signIn(page, operator, '/alerts');
    await page.getByText('Nothing needs attention').waitFor();
    await page.locator('.live-live').waitFor();

    const now = Date.now();
    const hot = [-90, -60, -30, 0].map((s) => ({ ts: new Date(now + s * 1000).toISOString(), values: { temperature: 11 + s / -30 } }));
    assert.equal((await postTelemetry(hot)).statusCode, 200);
    const link = page.getByRole('link', { name: /Cold room 1: temperature is/ });
    await link.waitFor();
    await page.getByRole('row', { name: /Critical/ }).getByText('Open').waitFor();
    await assertAccessible(page, 'alerts-inbox');

    await page.getByRole('checkbox', { name: /Select “Cold room 1: temperature is/ }).check();
    await page.getByRole('button', { name: 'Acknowledge selected (1)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Acknowledge alert' });
    await dialog.getByLabel('Comment (optional)').fill('Door left open by the night shift; closed it.');
    await dialog.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByRole('status').filter({ hasText: '1 acknowledged.' }).waitFor();
    // The default view lists active alerts: acknowledged ones stay, now marked so.
    await page.getByRole('row', { name: /Critical/ }).getByText('Acknowledged').waitFor();

    await link.click();
    await page.waitForURL('**/alerts/*');
    alertPath = new URL(page.url()).pathname;
    await page.getByText(`Acknowledged by ${operatorName}`).waitFor();
    await page.getByText('“Door left open by the night shift; closed it.”').waitFor();
    await page.getByRole('heading', { name: 'Temperature around the alert' }).waitFor();
    await page.locator('.chart-canvas canvas').first().waitFor();
    // Already acknowledged: only Resolve is left.
    assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    await page.getByRole('button', { name: 'Resolve' }).waitFor();
    await assertAccessible(page, 'alerts-detail');
    await page.close();
  });

  it('a viewer sees the alerts without acknowledge or resolve controls', async () => {
    const page = await newPage();
    await signIn(page, viewer, '/alerts');
    await page.getByRole('link', { name: /Cold room 1: temperature is/ }).waitFor();
    assert.equal(await page.getByRole('checkbox').count(), 0);
    assert.equal(await page.getByRole('button', { name: /Acknowledge/ }).count(), 0);
    await page.getByText('“Door left open by the night shift; closed it.”').waitFor();
    await page.goto(`${server.url}${alertPath}`);
    await page.getByText(`Acknowledged by ${operatorName}`).waitFor();
    assert.equal(await page.getByRole('button', { name: /Acknowledge|Resolve/ }).count(), 0);
    // Neither the rules editor nor the channels are theirs.
    assert.equal(await page.getByRole('link', { name: 'Alert rules' }).count(), 0);
    await page.goto(`${server.url}/alerts/00000000-0000-4000-8000-000000000000`);
    await page.getByText('Alert not found').waitFor();
    await page.close();
  });

  it('an administrator manages a webhook channel: a loopback URL refused, the secret shown once, the delivery log', async () => {
    const page = await newPage();
    await signIn(page, owner, '/admin/notifications');
    await page.getByText('No channels yet').waitFor();
    await page.getByRole('button', { name: 'New channel' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New channel' });
    await dialog.getByLabel('Name').fill('Ops webhook');
    await dialog.getByLabel('Kind').selectOption('webhook');
    await dialog.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    // A loopback receiver is refused: only the server's operator can allow private destinations.
    await dialog.locator('#channel-url-error').filter({ hasText: 'only the server\'s operator can allow' }).waitFor();
    await dialog.getByLabel('URL').fill('https://93.184.215.14/hook');
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    const secret = page.getByLabel('Signing secret of Ops webhook');
    await secret.waitFor();
    assert.match(await secret.inputValue(), /^whsec_/);
    await page.getByRole('button', { name: 'Delivery log of Ops webhook' }).click();
    await page.getByText('Nothing sent yet').waitFor();
    await assertAccessible(page, 'alerts-notifications');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.close();
  });

  it('an administrator turns an email channel into a daily digest in the channel editor', async () => {
    const page = await newPage();
    await signIn(page, owner, '/admin/notifications');
    await page.getByRole('button', { name: 'New channel' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New channel' });
    await dialog.getByLabel('Name').fill('Morning summary');
    await dialog.getByLabel('Recipients').fill('morning@example.com');
    await dialog.getByLabel('Delivery').selectOption('minutes');
    await dialog.getByLabel('Every (minutes)').fill('2');
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    await dialog.getByText('Enter whole minutes from 5 to 1440.').waitFor();
    await dialog.getByLabel('Delivery').selectOption('daily');
    await dialog.getByLabel('At (organization time)').fill('07:30');
    await dialog.getByText('Critical alerts still go out at once.', { exact: false }).waitFor();
    await assertAccessible(page, 'alerts-channel-digest');
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    await page.getByRole('row', { name: /Morning summary/ }).getByText('Daily digest at 07:30').waitFor();
    const saved = (await owner.client.get('/api/v1/notification-channels')).body.items.find((c: { name: string }) => c.name === 'Morning summary');
    assert.deepEqual(saved.digest, { every: 'day', at: '07:30' });

    await page.getByRole('button', { name: 'Edit Morning summary' }).click();
    const editor = page.getByRole('dialog', { name: 'Edit “Morning summary”' });
    assert.equal(await editor.getByLabel('Delivery').inputValue(), 'daily');
    await editor.getByLabel('Delivery').selectOption('hourly');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('row', { name: /Morning summary/ }).getByText('Hourly digest').waitFor();
    await page.close();
  });

  it('an administrator sends maintenance reminders 10 days ahead through one chosen channel', async () => {
    const page = await newPage();
    await signIn(page, owner, '/admin/notifications');
    const panel = page.getByRole('region', { name: 'Maintenance reminders' });
    await panel.getByLabel('Days before the due date').fill('10');
    await panel.getByLabel('Only these channels').check();
    await panel.getByLabel('Morning summary').check();
    await panel.getByRole('button', { name: 'Save reminder settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Maintenance reminder settings saved.' }).waitFor();
    const channelId = (await owner.client.get('/api/v1/notification-channels')).body.items.find((c: { name: string }) => c.name === 'Morning summary').id;
    assert.deepEqual((await owner.client.get('/api/v1/maintenance/settings')).body, { reminderDays: 10, channelIds: [channelId] });
    await panel.getByLabel('Days before the due date').fill('400');
    await panel.getByRole('button', { name: 'Save reminder settings' }).click();
    await panel.getByRole('alert').filter({ hasText: 'Enter whole days from 0 to 365.' }).waitFor();
    assert.equal((await owner.client.get('/api/v1/maintenance/settings')).body.reminderDays, 10, 'nothing saved');
    await assertAccessible(page, 'maintenance-reminder-settings');
    await page.close();
  });

  it('works on a 390 px phone in dark theme, and the overview counts open alerts', async () => {
    const page = await newPage({ width: 390, colorScheme: 'dark' });
    await signIn(page, owner, '/alerts');
    await page.getByRole('link', { name: /Cold room 1: temperature is/ }).waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'inbox scrolls sideways at 390 px');
    await assertAccessible(page, 'alerts-inbox-phone-dark');
    await page.goto(`${server.url}${alertPath}`);
    await page.locator('.chart-canvas canvas').first().waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'detail scrolls sideways at 390 px');
    await assertAccessible(page, 'alerts-detail-phone-dark');
    await page.goto(`${server.url}/alerts/rules`);
    await page.getByRole('row', { name: /Cold room too warm/ }).waitFor();
    assert.equal(await horizontalOverflow(page), 0, 'rules scroll sideways at 390 px');
    await page.goto(`${server.url}/dashboard`);
    const kpi = page.getByRole('link', { name: /Open alerts/ });
    await kpi.getByText('1', { exact: true }).waitFor();
    await page.close();
    // The refused rule (400) and the unknown alert (404) were asked for on purpose; nothing else failed.
    const unexpected = errors.filter((e) => !/status of 400 .*\/api\/v1\/(alert-rules|notification-channels)\)$|status of 404 .*\/api\/v1\/alerts\/00000000-/.test(e));
    assert.deepEqual(unexpected, []);
  });

  it('the operator who acknowledged an alert is told in the console when someone else resolves it', async () => {
    const second = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room 2', serial: 'CR-2' });
    const now = Date.now();
    const hot = [-90, -60, -30, 0].map((sec) => ({ ts: new Date(now + sec * 1000).toISOString(), values: { temperature: 12 } }));
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': second.body.apiKey }, payload: { items: hot } });
    assert.equal(sent.statusCode, 200);
    const [alert] = (await owner.client.get(`/api/v1/alerts?deviceId=${second.body.device.id}`)).body.items;
    assert.equal((await operator.client.post(`/api/v1/alerts/${alert.id}/acknowledge`, {})).status, 200);

    const page = await newPage();
    await signIn(page, operator, '/alerts');
    await page.locator('.live-live').waitFor();
    assert.equal((await owner.client.post(`/api/v1/alerts/${alert.id}/resolve`)).status, 200);
    await page.getByRole('status').filter({ hasText: /^Resolved: Cold room 2: temperature is .* \(you acknowledged it\)$/ }).waitFor();
    await screenshot(page, 'alerts-resolved-notice');
    await page.close();
  });
});
