/**
 * The delivery-challan register in a real browser (Debian's Chromium, playwright-core) against a real
 * Vigil: a challan made in the drawer (a future date refused at its field first), filters by customer and
 * missing POD as chips and in the address (kept over a reload), two rows selected with shift-click and
 * their invoices marked submitted (then undone from the toast), CSV of the filtered list and of a
 * selection, the selection copied in the four-line block format, a challan another user makes through
 * the API appearing without a reload, and a delivery executive on a 390 px phone uploading the signed
 * copy from a card, and a challan deleted with a reason found on the deleted challans page on a phone and
 * restored. Screenshots: docs/screenshots/challans.png and phone-challans.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { clipboardText } from '../src/shared/challans.js';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';
import {
  chromiumAvailable, CHROMIUM, ensureWebBuild, eventually, horizontalOverflow, launchBrowser, OFFLINE_TILES, screenshot, serveConsole, seriousA11yViolations, watchErrors, type ConsoleServer,
} from './helpers/browser.js';

const skip = !chromiumAvailable() && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;

interface Row { id: string; number: string; challanDate: string; customerName: string; description: string; invoiceSubmitted: boolean }

/** A photographed signed copy: a page with lines of text and a signature. */
function signedCopy(): Promise<Buffer> {
  const lines = Array.from({ length: 9 }, (_, i) => `<rect x="60" y="${150 + i * 42}" width="${300 + ((i * 97) % 220)}" height="12" fill="#9aa3ae"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="820"><rect width="640" height="820" fill="#f7f4ec"/>
    <rect x="60" y="70" width="260" height="28" fill="#334155"/>${lines}
    <path d="M380 700 q40 -60 80 0 t80 -10" stroke="#1d4ed8" stroke-width="5" fill="none"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
}

function upload(client: ApiClient, url: string, data: Buffer, fileName: string) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

describe('challan register in a browser', { skip, timeout: 240_000 }, () => {
  let app: TestApp;
  let server: ConsoleServer;
  let browser: Browser;
  let owner: SignedIn;
  let operator: SignedIn;
  let customers: Record<'acme' | 'globex' | 'initech', string>;
  let rows: Record<string, Row>;
  let today: DateTime;
  let photo: Buffer;
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuild();
    app = await startTestApp({ mapTiles: OFFLINE_TILES });
    [server, browser, owner, photo] = await Promise.all([serveConsole(app.runtime), launchBrowser(), app.owner('Sri Balaji Traders'), signedCopy()]);
    operator = await app.member(owner, 'operator');
    today = DateTime.now().setZone((await owner.client.get('/api/v1/organization')).body.timezone as string).startOf('day');
    const customer = async (name: string, tag: string) => (await owner.client.post('/api/v1/customers', { name, tag })).body.id as string;
    customers = { acme: await customer('Acme Gifts Pvt Ltd', 'ACME'), globex: await customer('Globex Corporate Supplies', 'GLOBEX'), initech: await customer('Initech Offices', 'INIT') };
    // A register of the last weeks: invoices pending and submitted, PODs received and missing.
    const seeds: [string, number, keyof typeof customers, string, string[], string | null, boolean, boolean][] = [
      ['pending-a', 2, 'acme', 'Ten cartons of A4 paper, 75 gsm', ['Ravi Kumar'], 'INV-2041', false, false],
      ['pending-b', 3, 'acme', 'Festival gift hampers (40 boxes)', ['Ravi Kumar', 'Priya S'], 'INV-2041', false, true],
      ['globex-1', 4, 'globex', 'Toner cartridges HP 88A × 12', ['Arjun M'], null, false, false],
      ['initech-1', 5, 'initech', 'Office chairs, ergonomic, 6 units', ['Suresh'], 'INV-2039', true, true],
      ['globex-2', 6, 'globex', 'Whiteboard markers and dusters', ['Arjun M', 'Ravi Kumar'], 'INV-2037', false, true],
      ['acme-old', 8, 'acme', 'Diwali sweets, 120 boxes', ['Priya S'], 'INV-2030', true, true],
      ['initech-2', 9, 'initech', 'Pantry supplies: tea, coffee, sugar', ['Suresh'], null, false, false],
      ['globex-3', 12, 'globex', 'Printed notebooks with logo, 500', ['Arjun M'], 'INV-2025', true, false],
    ];
    rows = {};
    for (const [key, daysAgo, who, description, deliveryExecutives, invoiceNumber, submitted, pod] of seeds) {
      const day = today.minus({ days: daysAgo }).toISODate()!;
      const made = await owner.client.post('/api/v1/challans', {
        challanDate: day, customerId: customers[who], description, deliveryExecutives, invoiceNumber, invoiceDate: invoiceNumber ? day : null, invoiceSubmitted: submitted,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      rows[key] = made.body as Row;
      if (pod) assert.equal((await upload(owner.client, `/api/v1/challans/${made.body.id}/pod`, photo, 'signed.jpg')).status, 201);
    }
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    await app?.close();
  });

  async function newPage(options: { width?: number; height?: number } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1440, height: options.height ?? 900 }, locale: 'en-GB', acceptDownloads: true });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
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

  const challan = async (id: string) => (await owner.client.get(`/api/v1/challans/${id}`)).body as Row;

  it('a challan made in the drawer: a future date refused at its field, then created', async () => {
    const page = await newPage();
    await signIn(page, owner, '/challans');
    await page.getByRole('button', { name: `Open ${rows['pending-a']!.number}` }).waitFor();
    await page.keyboard.press('n');
    const drawer = page.getByRole('dialog', { name: 'New challan' });
    await drawer.getByLabel('Date', { exact: true }).fill(today.plus({ days: 3 }).toISODate()!);
    await drawer.getByLabel('Customer').selectOption({ label: 'Acme Gifts Pvt Ltd (ACME)' });
    await drawer.getByLabel('Description').fill('Visiting cards, 20 boxes');
    const people = drawer.getByLabel('Delivery executives');
    await people.fill('Meena R');
    await people.press('Enter');
    await people.fill('Ravi Kumar');
    await people.press('Enter');
    await drawer.getByRole('button', { name: 'Create challan' }).click();
    await drawer.getByText(/in the future|after today/i).waitFor();
    assert.equal(await drawer.getByLabel('Date', { exact: true }).getAttribute('aria-invalid'), 'true');

    await drawer.getByLabel('Date', { exact: true }).fill(today.minus({ days: 1 }).toISODate()!);
    await drawer.getByRole('button', { name: 'Create challan' }).click();
    const toast = page.getByRole('status').filter({ hasText: /Challan \d{9} created\./ });
    await toast.waitFor();
    const number = /Challan (\d{9})/.exec((await toast.textContent())!)![1]!;
    // The new challan stays open, ready for its signed copy.
    const opened = page.getByRole('dialog', { name: `Challan ${number}` });
    await opened.getByText('No signed copy yet.').waitFor();
    await screenshot(page, 'challans-drawer', false);
    await page.keyboard.press('Escape');
    await opened.waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: new RegExp(number) });
    await row.getByText('Meena R, Ravi Kumar').waitFor();
    const listed = (await owner.client.get(`/api/v1/challans?q=${number}`)).body.items[0];
    assert.deepEqual(listed.deliveryExecutives, ['Meena R', 'Ravi Kumar']);
    assert.equal(listed.challanDate, today.minus({ days: 1 }).toISODate());
    await page.close();
  });

  it('filters by customer and missing POD: chips, the address, a reload, a chip removed', async () => {
    const page = await newPage();
    await signIn(page, owner, '/challans');
    await page.getByRole('button', { name: 'Filters' }).click();
    await page.getByLabel('Customer').selectOption({ label: 'Globex Corporate Supplies' });
    await page.getByLabel('Proof of delivery').selectOption('missing');
    const chips = page.getByRole('list', { name: 'Filters in force' });
    await chips.getByText('Customer: Globex Corporate Supplies').waitFor();
    await chips.getByText('POD missing').waitFor();
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('customerId'), customers.globex);
    assert.equal(url.searchParams.get('pod'), 'missing');
    const expected = [rows['globex-1']!.number, rows['globex-3']!.number];
    const shownNumbers = async () => (await page.locator('tbody .challan-number').allTextContents()).sort();
    await eventually(async () => assert.deepEqual(await shownNumbers(), expected.sort()));
    await page.getByText('Showing 1–2 of 2').waitFor();

    await page.reload();
    await chips.getByText('POD missing').waitFor();
    await eventually(async () => assert.deepEqual(await shownNumbers(), expected.sort()));
    await page.getByRole('button', { name: 'Remove filter: POD missing' }).click();
    await eventually(async () => assert.equal((await shownNumbers()).length, 3));
    assert.equal(new URL(page.url()).searchParams.get('pod'), null);
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the filtered register');
    await page.close();
  });

  it('two rows selected with shift-click get their invoices marked submitted, and Undo takes it back', async () => {
    const page = await newPage();
    await signIn(page, owner, `/challans?customerId=${customers.acme}&invoice=pending`);
    const [a, b] = [rows['pending-a']!, rows['pending-b']!];
    await page.getByRole('checkbox', { name: `Select ${a.number}` }).click();
    await page.getByRole('checkbox', { name: `Select ${b.number}` }).click({ modifiers: ['Shift'] });
    const bar = page.getByRole('toolbar', { name: 'Selected challans' });
    await bar.getByText('2 selected').waitFor();
    await bar.getByRole('button', { name: 'Mark invoice submitted' }).click();
    await page.getByRole('dialog', { name: 'Mark invoices submitted' }).getByRole('button', { name: 'Mark 2 submitted' }).click();
    const toast = page.getByRole('status').filter({ hasText: '2 invoices marked submitted.' });
    await toast.waitFor();
    assert.deepEqual([(await challan(a.id)).invoiceSubmitted, (await challan(b.id)).invoiceSubmitted], [true, true]);
    // They no longer match "pending".
    await page.getByRole('button', { name: `Open ${a.number}` }).waitFor({ state: 'detached' });

    await toast.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('status').filter({ hasText: 'Undone.' }).waitFor();
    assert.deepEqual([(await challan(a.id)).invoiceSubmitted, (await challan(b.id)).invoiceSubmitted], [false, false]);
    await page.getByRole('button', { name: `Open ${a.number}` }).waitFor();
    await page.close();
  });

  it('exports the filtered list and a selection as CSV, and copies the selection as four-line blocks', async () => {
    const page = await newPage();
    await signIn(page, owner, `/challans?customerId=${customers.globex}`);
    const globex = ['globex-1', 'globex-2', 'globex-3'].map((key) => rows[key]!);
    await page.getByRole('button', { name: `Open ${globex[0]!.number}` }).waitFor();

    await page.getByText('Export CSV').click();
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /All filtered challans \(3\)/ }).click()]);
    const csv = fs.readFileSync((await all.path())!, 'utf8').trim().split(/\r?\n/);
    assert.equal(csv.length, 4, csv.join('\n'));
    assert.ok(csv.every((line) => line.startsWith('"') && line.endsWith('"')), 'every field quoted');
    for (const row of globex) assert.ok(csv.some((line) => line.includes(`"${row.number}"`)), row.number);
    assert.ok(csv.some((line) => line.includes(`"${DateTime.fromISO(globex[0]!.challanDate).toFormat('dd-MM-yyyy')}"`)), 'days as dd-mm-yyyy');

    // Keyboard: j moves to the first row, x selects it; j, x the second.
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    for (const key of ['j', 'x', 'j', 'x']) await page.keyboard.press(key);
    const bar = page.getByRole('toolbar', { name: 'Selected challans' });
    await bar.getByText('2 selected').waitFor();
    const [selection] = await Promise.all([page.waitForEvent('download'), bar.getByRole('button', { name: 'Export CSV' }).click()]);
    const selected = fs.readFileSync((await selection.path())!, 'utf8').trim().split(/\r?\n/);
    assert.equal(selected.length, 3);
    assert.ok(selected[1]!.includes(`"${globex[0]!.number}"`) && selected[2]!.includes(`"${globex[1]!.number}"`), selected.join('\n'));

    await bar.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('status').filter({ hasText: '2 rows copied.' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, clipboardText([globex[0]!, globex[1]!]));
    assert.match(copied, /^Challan Number: \d{9}\nDate: \d\d-\d\d-\d{4}\nCustomer Name: Globex Corporate Supplies\nDescription: .+\n-\nChallan Number: /);
    await page.close();
  });

  it('a challan another user makes through the API appears in the open register without a reload', async () => {
    const page = await newPage();
    await signIn(page, owner, '/challans');
    await page.getByRole('button', { name: `Open ${rows['pending-a']!.number}` }).waitFor();
    await page.evaluate(() => { (window as unknown as { stillHere: boolean }).stillHere = true; });
    await page.locator('.live-live').waitFor();
    const made = await operator.client.post('/api/v1/challans', { customerId: customers.initech, description: 'Live delivery: 30 reams of paper', deliveryExecutives: ['Kiran'] });
    assert.equal(made.status, 201);
    await page.getByRole('button', { name: `Open ${made.body.number}` }).waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere), true, 'no reload');

    // The desk view with a selection, for the documentation.
    await page.getByRole('checkbox', { name: `Select ${rows['pending-a']!.number}` }).click();
    await page.getByRole('checkbox', { name: `Select ${rows['globex-1']!.number}` }).click({ modifiers: ['Shift'] });
    await page.mouse.move(0, 0);
    fs.mkdirSync('docs/screenshots', { recursive: true });
    await page.screenshot({ path: 'docs/screenshots/challans.png' });
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the register');
    await page.close();
  });

  it('a delivery executive on a phone uploads the signed copy from the card', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, operator, `/challans?customerId=${customers.initech}`);
    const target = rows['initech-2']!;
    const card = page.getByRole('listitem').filter({ has: page.getByRole('button', { name: `Open ${target.number}` }) });
    await card.getByText('POD missing').waitFor();
    const input = card.locator('input[type="file"]');
    assert.equal(await input.getAttribute('capture'), 'environment');
    assert.equal(await input.getAttribute('accept'), 'image/*,application/pdf');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), card.getByText(`Upload POD of ${target.number}`).click()]);
    await chooser.setFiles({ name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.getByRole('status').filter({ hasText: `Proof of delivery attached for ${target.number}.` }).waitFor();
    await card.getByText('POD received').waitFor();
    const stored = await challan(target.id) as Row & { pod: { fileName: string } | null };
    assert.equal(stored.pod?.fileName, 'IMG_2041.jpg');
    assert.equal(await horizontalOverflow(page), 0, 'nothing scrolls sideways at 390 px');
    assert.deepEqual(await seriousA11yViolations(page), [], 'accessibility of the phone register');
    await page.goto(`${server.url}/challans`);
    await page.getByRole('button', { name: `Open ${target.number}` }).waitFor();
    await page.screenshot({ path: 'docs/screenshots/phone-challans.png' });
    await page.close();
  });

  it('the POD outstanding view: challans a week old or more without POD or submitted invoice, as a chip', async () => {
    const page = await newPage();
    await signIn(page, owner, '/challans');
    await page.getByRole('button', { name: 'Filters' }).click();
    await page.getByLabel('Outstanding').selectOption('7');
    await page.getByRole('list', { name: 'Filters in force' }).getByText('Outstanding 7+ days (POD or invoice)').waitFor();
    assert.equal(new URL(page.url()).searchParams.get('outstandingDays'), '7');
    await page.getByRole('button', { name: `Open ${rows['globex-3']!.number}` }).waitFor();
    for (const fresh of ['pending-a', 'globex-1']) assert.equal(await page.getByRole('button', { name: `Open ${rows[fresh]!.number}` }).count(), 0, `${fresh} is under a week old`);
    assert.equal(await page.getByRole('button', { name: `Open ${rows['acme-old']!.number}` }).count(), 0, 'POD received and invoice submitted');
    await page.close();
  });

  it('an admin deletes a challan with a reason, finds it on Deleted challans on a phone (by whom, why) and restores it', async () => {
    const target = rows['acme-old']!;
    const desk = await newPage();
    await signIn(desk, owner, `/challans?customerId=${customers.acme}`);
    await desk.getByRole('checkbox', { name: `Select ${target.number}` }).click();
    await desk.getByRole('toolbar', { name: 'Selected challans' }).getByRole('button', { name: 'Delete…' }).click();
    const confirm = desk.getByRole('dialog', { name: 'Delete 1 challan?' });
    await confirm.getByLabel('Why (optional, shown with the deleted challans)').fill('Entered twice by mistake');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await desk.getByRole('status').filter({ hasText: '1 deleted.' }).waitFor();
    await desk.getByRole('link', { name: 'Deleted' }).waitFor();
    await desk.close();

    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone, owner, '/challans/deleted');
    const row = phone.getByRole('row').filter({ hasText: target.number });
    await row.waitFor();
    const text = await row.innerText();
    for (const shown of ['Acme Gifts Pvt Ltd', 'Olive Owner', 'Entered twice by mistake']) assert.ok(text.includes(shown), `${shown} in ${text}`);
    assert.equal(await horizontalOverflow(phone), 0, 'nothing scrolls sideways at 390 px');
    assert.deepEqual(await seriousA11yViolations(phone), [], 'accessibility of the deleted challans page');
    await row.getByRole('button', { name: `Restore ${target.number}` }).click();
    await phone.getByRole('dialog', { name: `Restore challan ${target.number}?` }).getByRole('button', { name: 'Restore' }).click();
    await phone.getByRole('status').filter({ hasText: `Challan ${target.number} restored to the register.` }).waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal((await owner.client.get(`/api/v1/challans/${target.id}`)).body.number, target.number, 'back in the register with its number');
    await phone.close();
  });

  it('no page logged an error (but the refused future date)', () => {
    assert.deepEqual(errors.filter((e) => !/status of 400 \(Bad Request\) \(http:\/\/[^)]+\/api\/v1\/challans\)$/.test(e)), []);
  });
});
