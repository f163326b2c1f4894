/**
 * The console's own account and administration flows in a real browser (Debian's Chromium driven by
 * playwright-core) against a Vigil with an empty database: first-run setup, sign-in, a registration
 * code used by someone else, changing the password, an API token created and revoked, organization
 * settings, the platform pages, and axe-core on each of them. Screenshots go to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { testConfig } from '../src/server/core/config.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { createTestDatabase, dropTestDatabase } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot,
  serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

const ADMIN = { name: 'Ada Admin', email: 'ada@city.example', password: 'first admin password' };
const NEW_PASSWORD = 'a changed admin password';
const VIEWER = { name: 'Vic Viewer', email: 'vic@city.example', password: 'viewer password here' };

describe('account and administration in a browser', { skip, timeout: 180_000 }, () => {
  let runtime: Runtime;
  let databaseUrl: string;
  let dataDir: string;
  let server: ConsoleServer;
  let browser: Browser;
  let adminPage: Page;
  let setupPath: string;
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    databaseUrl = await createTestDatabase();
    dataDir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'vigil-browser-admin-'));
    runtime = await startRuntime(testConfig({ databaseUrl, dataDir, mapTiles: OFFLINE_TILES }), { logger: pino({ level: 'silent' }) });
    [server, browser] = await Promise.all([serveConsole(runtime), launchBrowser()]);
    const printed = await runtime.services.setup.prepare();
    assert.ok(printed, 'an empty database asks for setup');
    const url = new URL(printed);
    setupPath = `${url.pathname}${url.search}`;
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await runtime?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(options: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: 860 },
      locale: 'en-US',
      timezoneId: 'Europe/Paris',
      colorScheme: options.colorScheme ?? 'light',
      acceptDownloads: false,
    });
    contexts.push(context);
    // No internet here: every tile request fails at once, as when tiles are blocked.
    await context.route('https://tiles.invalid/**', (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const pageErrors = watchErrors(page);
    page.on('close', () => errors.push(...pageErrors));
    return page;
  }

  async function assertAccessible(page: Page, name: string): Promise<void> {
    await screenshot(page, name);
    assert.deepEqual(await seriousA11yViolations(page), [], `accessibility of ${name}`);
  }

  const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor();
  const bearer = (token: string) => fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  it('completes first-run setup in the console, signs out and signs in again', async () => {
    const page = (adminPage = await newPage());
    await page.goto(`${server.url}/setup?token=not-the-real-token`);
    await page.getByRole('heading', { name: 'This setup link is not valid' }).waitFor();

    await page.goto(`${server.url}${setupPath}`);
    await page.getByRole('heading', { name: 'Welcome to Vigil' }).waitFor();
    await page.getByLabel('Organization name').fill('City Traffic');
    await page.getByLabel('Your name').fill(ADMIN.name);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    // Checked before asking the server, shown at the field and announced.
    await page.getByRole('alert').filter({ hasText: 'Use at least 10 characters.' }).waitFor();
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'setup');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.waitForURL('**/dashboard');
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();

    // The link worked once.
    await page.goto(`${server.url}${setupPath}`);
    await page.getByRole('heading', { name: 'Setup is complete' }).waitFor();

    await page.goto(`${server.url}/dashboard`);
    await page.getByRole('button', { name: /Account menu/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
  });

  let registrationCode: string;

  it('creates a registration code with a role and a number of uses', async () => {
    const page = adminPage;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Registration codes' }).click();
    await page.getByRole('heading', { name: 'Registration codes', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No registration codes yet' }).waitFor();
    await page.getByLabel('Label').fill('Volunteers');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByLabel('Uses').fill('0');
    await page.getByRole('button', { name: 'Create code' }).click();
    await page.getByRole('alert').filter({ hasText: 'Enter a whole number from 1 to 100,000.' }).waitFor();
    await page.getByLabel('Uses').fill('3');
    await page.getByRole('button', { name: 'Create code' }).click();
    registrationCode = await page.getByLabel('New registration code').inputValue();
    assert.ok(registrationCode.length >= 8, registrationCode);
    const row = page.getByRole('region', { name: 'Registration codes' }).getByRole('row', { name: /Volunteers.*Viewer.*0 \/ 3.*Active/ });
    await row.waitFor();
    await assertAccessible(page, 'admin-registration-codes');
  });

  let viewerPage: Page;

  it('someone else signs up with the code in another browser, as a viewer without administration', async () => {
    const page = (viewerPage = await newPage());
    await page.goto(`${server.url}/login`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.waitForURL('**/register');
    await page.getByLabel('Registration code').fill('not-a-code-at-all');
    await page.getByLabel('Email').fill(VIEWER.email);
    await page.getByLabel('Your name').fill(VIEWER.name);
    await page.getByLabel('Password').fill(VIEWER.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    // The server's refusal, as a sentence.
    await page.getByRole('alert').first().waitFor();
    assert.match(await page.getByRole('alert').first().innerText(), /code/i);
    await assertAccessible(page, 'register');

    await page.getByLabel('Registration code').fill(registrationCode);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/dashboard');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('heading', { name: 'Administration' }).count(), 0);

    await page.goto(`${server.url}/admin/organization`);
    await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
    await page.goto(`${server.url}/platform/users`);
    await page.getByRole('heading', { name: "You don't have access to this page" }).waitFor();
    await assertAccessible(page, 'not-allowed');

    await adminPage.reload();
    await adminPage.getByRole('region', { name: 'Registration codes' }).getByRole('row', { name: /Volunteers.*1 \/ 3/ }).waitFor();
  });

  it('an invited operator opens the emailed link in the console and joins', async () => {
    await adminPage.goto(`${server.url}/admin/members`);
    await adminPage.getByLabel('Email', { exact: true }).fill('otto@city.example');
    await adminPage.getByLabel('Role', { exact: true }).selectOption('operator');
    await adminPage.getByRole('button', { name: 'Invite', exact: true }).click();
    const link = new URL(await adminPage.getByLabel('Invite link').inputValue());
    assert.equal(link.pathname, '/invite');

    const page = await newPage();
    await page.goto(`${server.url}/invite`);
    await page.getByRole('heading', { name: 'This invitation link is incomplete' }).waitFor();
    await page.goto(`${server.url}${link.pathname}${link.search}`);
    await page.getByRole('heading', { name: 'Join your team on Vigil' }).waitFor();
    // The page says what the link offers before asking anything.
    await page.getByText('You are invited to City Traffic as Operator, at otto@city.example.').waitFor();
    await page.getByLabel('Your name').fill('Otto Operator');
    await page.getByLabel('Password').fill('operator password');
    await assertAccessible(page, 'invite');
    await page.getByRole('button', { name: 'Join City Traffic' }).click();
    await page.waitForURL('**/dashboard');
    await page.getByRole('button', { name: /Account menu for Otto Operator/ }).waitFor();
    // The link worked once.
    await page.goto(`${server.url}${link.pathname}${link.search}`);
    await page.getByRole('heading', { name: 'This invitation can no longer be used' }).waitFor();
  });

  it('changes the password: the wrong current one is refused at its field', async () => {
    const page = adminPage;
    await page.getByRole('button', { name: /Account menu/ }).click();
    await page.getByRole('link', { name: 'Password and API tokens' }).click();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
    await page.getByLabel('Current password').fill('not my password at all');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').filter({ hasText: 'Current password is not your current password.' }).waitFor();
    assert.equal(await page.getByLabel('Current password').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Current password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await status(page, 'Password changed.');
    assert.equal(await page.getByLabel('Current password').inputValue(), '');
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: NEW_PASSWORD }),
    });
    assert.equal(login.status, 200);
  });

  it('creates an API token shown once, which works until it is revoked after a confirmation', async () => {
    const page = adminPage;
    await page.getByRole('heading', { name: 'No API tokens yet' }).waitFor();
    await page.getByLabel('Token name').fill('Nightly report');
    await page.getByLabel('Expires').selectOption({ label: '90 days' });
    // A token outlives the session, so creating one asks for the password again.
    await page.getByLabel('Your password').fill('not my password at all');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('alert').filter({ hasText: 'Current password is not your current password.' }).waitFor();
    await page.getByLabel('Your password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('New API token').inputValue();
    assert.equal((await bearer(token)).status, 200);
    const tokens = page.getByRole('region', { name: 'API tokens' });
    await tokens.getByRole('row', { name: /Nightly report.*Until/ }).waitFor();
    await assertAccessible(page, 'account');

    await tokens.getByRole('button', { name: 'Revoke Nightly report' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke “Nightly report”?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await bearer(token)).status, 200, 'cancelled: still works');
    await tokens.getByRole('button', { name: 'Revoke Nightly report' }).click();
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await status(page, 'Token “Nightly report” revoked.');
    await tokens.getByRole('row', { name: /Nightly report.*Revoked/ }).waitFor();
    assert.equal((await bearer(token)).status, 401);
  });

  it('changes the organization settings, shown back after a reload and in the audit log', async () => {
    const page = adminPage;
    await page.goto(`${server.url}/admin/organization`);
    await page.getByRole('heading', { name: 'Organization settings', level: 1 }).waitFor();
    await page.getByLabel('Kilometres per hour (km/h)').check();
    await page.getByLabel('Time zone').selectOption('Europe/Paris');
    await page.getByLabel(/Keep raw events/).fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('alert').filter({ hasText: /Enter whole days/ }).waitFor();
    await page.getByLabel(/Keep raw events/).fill('400');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await status(page, 'Settings saved.');
    await assertAccessible(page, 'admin-organization');

    await page.reload();
    await page.getByRole('heading', { name: 'Organization settings', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('Kilometres per hour (km/h)').isChecked(), true);
    assert.equal(await page.getByLabel(/Keep raw events/).inputValue(), '400');
    await page.goto(`${server.url}/admin/audit`);
    await page.getByRole('region', { name: 'Audit log' }).getByRole('cell', { name: 'organization.updated' }).first().waitFor();
  });

  it('places a new site by clicking the map in the site dialog', async () => {
    const page = adminPage;
    await page.goto(`${server.url}/admin/sites`);
    await page.getByRole('button', { name: 'New site' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New site' });
    await dialog.getByLabel('Name').fill('Harbor Depot');
    await dialog.getByLabel('Latitude').fill('91');
    await dialog.getByLabel('Longitude').fill('10');
    await dialog.getByRole('button', { name: 'Create site' }).click();
    await dialog.getByText('Enter a number between -90 and 90.').waitFor();
    await dialog.getByLabel('Latitude').fill('');
    await dialog.getByLabel('Longitude').fill('');
    const map = dialog.getByRole('region', { name: 'Map: click to place the site' });
    await map.waitFor();
    const box = (await map.boundingBox())!;
    assert.ok(box.width > 200 && box.height > 100, `the map is sized inside the dialog (${box.width}×${box.height})`);
    await map.click({ position: { x: box.width / 2 + 40, y: box.height / 2 - 30 } });
    await eventually(async () => assert.notEqual(await dialog.getByLabel('Latitude').inputValue(), ''));
    const lat = Number(await dialog.getByLabel('Latitude').inputValue());
    const lon = Number(await dialog.getByLabel('Longitude').inputValue());
    assert.ok(Math.abs(lat) <= 90 && Math.abs(lon) <= 180, `${lat}, ${lon}`);
    await assertAccessible(page, 'admin-site-dialog');
    await dialog.getByRole('button', { name: 'Create site' }).click();
    await status(page, 'Site “Harbor Depot” created.');
    await page.getByRole('cell', { name: `${lat.toFixed(4)}, ${lon.toFixed(4)}` }).waitFor();
  });

  it('shows platform administrators every organization and user with platform figures', async () => {
    const page = adminPage;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'All organizations' }).click();
    const figures = page.getByRole('list', { name: 'Platform figures' });
    await eventually(async () => assert.match(await figures.innerText(), /3\s+Users/));
    await page.getByRole('button', { name: 'New organization' }).click();
    const dialog = page.getByRole('dialog', { name: 'New organization' });
    await dialog.getByLabel('Name').fill('County Roads');
    await dialog.getByLabel('Max devices').fill('25');
    await dialog.getByRole('button', { name: 'Create organization' }).click();
    await status(page, 'Organization “County Roads” created; you are its owner.');
    await page.getByRole('searchbox', { name: 'Search' }).fill('county');
    const table = page.getByRole('region', { name: 'Organizations' });
    await eventually(async () => assert.equal(await table.getByRole('row').count(), 2, 'the header and County Roads'));
    await table.getByRole('row', { name: /County Roads.*25/ }).waitFor();
    await assertAccessible(page, 'platform-organizations');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'All users' }).click();
    const users = page.getByRole('region', { name: 'Users' });
    await users.getByRole('row', { name: /Vic Viewer/ }).getByRole('button', { name: 'Deactivate Vic Viewer' }).click();
    await page.getByRole('dialog', { name: 'Deactivate Vic Viewer?' }).getByRole('button', { name: 'Deactivate' }).click();
    await status(page, 'Vic Viewer deactivated.');
    await users.getByRole('row', { name: /Vic Viewer.*Deactivated/ }).waitFor();
    await assertAccessible(page, 'platform-users');
    // Signed out everywhere: the viewer's next request goes to sign-in.
    await viewerPage.goto(`${server.url}/dashboard`);
    await viewerPage.waitForURL('**/login?next=%2Fdashboard');
  });

  it('a platform administrator opens an organization they do not belong to from the platform page', async () => {
    await runtime.services.setup.createUserWithOrganization(
      { email: 'olive@quarry.example', name: 'Olive Owner', password: 'quarry owner password', organizationName: 'Quarry Works' },
      { userId: null, label: 'test', ip: null, userAgent: null },
    );
    const page = adminPage;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'All organizations' }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill('quarry');
    await page.getByRole('region', { name: 'Organizations' }).getByRole('button', { name: 'Open Quarry Works' }).click();
    await page.waitForURL('**/dashboard');
    const menu = page.getByRole('combobox', { name: 'Organization' }).first();
    await eventually(async () => assert.equal(await menu.locator('option:checked').innerText(), 'Quarry Works'));
  });

  it('opens the emailed password reset link in the console, and fits a phone in dark theme', async () => {
    const page = await newPage({ width: 390, colorScheme: 'dark' });
    await page.goto(`${server.url}/reset-password?token=an-old-or-wrong-token`);
    await page.getByLabel('New password', { exact: true }).fill('another new password');
    await page.getByLabel('Repeat the new password').fill('another new password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('alert').filter({ hasText: /Ask for a new link/ }).waitFor();
    assert.equal(await horizontalOverflow(page), 0);
    await assertAccessible(page, 'reset-password-phone-dark');

    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
    for (const [path, heading] of [['/account', 'Your account'], ['/admin/registration-codes', 'Registration codes'], ['/admin/organization', 'Organization settings'], ['/platform/users', 'All users']]) {
      await page.goto(`${server.url}${path}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap')).slice(0, 8).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
      assert.equal(await horizontalOverflow(page), 0, `${path} scrolls sideways at 390 px ${wide.join(' | ')}`);
    }
    await assertAccessible(page, 'platform-users-phone-dark');
  });

  it('raised no script error or CSP refusal in any page', async () => {
    for (const context of contexts.splice(0)) await context.close();
    assert.deepEqual(errors.filter((e) => !/status of (400|403)/.test(e)), []);
  });
});
