import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { SseStream } from './helpers/sse.js';

type Row = { id: string; number: string; [key: string]: unknown };

describe('delivery challans', () => {
  let app: TestApp;
  let owner: SignedIn;
  let north: string;
  let south: string;
  let acme: string;
  let globex: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Challan Office');
    north = (await owner.client.post('/api/v1/sites', { name: 'North depot' })).body.id;
    south = (await owner.client.post('/api/v1/sites', { name: 'South depot' })).body.id;
    acme = (await owner.client.post('/api/v1/customers', { name: 'Acme Gifts Pvt Ltd', tag: 'ACME', contact: 'ops@acme.example' })).body.id;
    globex = (await owner.client.post('/api/v1/customers', { name: 'Globex "Corporate" Supplies', tag: 'GLOBEX' })).body.id;
  });
  after(async () => app.close());

  const challan = (fields: Record<string, unknown> = {}) => ({ challanDate: '2025-07-03', customerId: acme, description: 'Ten cartons of A4 paper', ...fields });
  const create = async (fields: Record<string, unknown> = {}, client = owner.client) => {
    const response = await client.post('/api/v1/challans', challan(fields));
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body as Row;
  };

  it('customers: managers and up keep the list, tags are unique, a used customer is made inactive rather than deleted', async () => {
    const operator = await app.member(owner, 'operator');
    const manager = await app.member(owner, 'manager');
    assert.equal((await operator.client.post('/api/v1/customers', { name: 'X', tag: 'X' })).status, 403);
    const created = await manager.client.post('/api/v1/customers', { name: 'Initech', tag: 'init', address: ' 1 Main St ' });
    assert.equal(created.status, 201);
    assert.equal(created.body.address, '1 Main St');
    const clash = await manager.client.post('/api/v1/customers', { name: 'Initech again', tag: 'INIT' });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.details[0].field, 'tag');
    const made = await create({ customerId: created.body.id });
    assert.equal(made.customerName, 'Initech');
    // Renamed later: the challan keeps the name it was made with.
    await manager.client.patch(`/api/v1/customers/${created.body.id}`, { name: 'Initech Global' });
    assert.equal((await owner.client.get(`/api/v1/challans/${made.id}`)).body.customerName, 'Initech');
    assert.equal((await manager.client.delete(`/api/v1/customers/${created.body.id}`)).status, 409);
    await manager.client.patch(`/api/v1/customers/${created.body.id}`, { active: false });
    const inactive = await owner.client.post('/api/v1/challans', challan({ customerId: created.body.id }));
    assert.equal(inactive.status, 400);
    assert.equal(inactive.body.error.details[0].field, 'customerId');
    const listed = await operator.client.get('/api/v1/customers?active=true');
    assert.deepEqual(listed.body.items.map((c: { tag: string }) => c.tag), ['ACME', 'GLOBEX']);
  });

  it("date rules are the API's: no challan date after today in the organization's zone, no invoice date before the challan", async () => {
    await owner.client.patch('/api/v1/organization', { timezone: 'Pacific/Kiritimati' });
    const today = DateTime.now().setZone('Pacific/Kiritimati');
    const ok = await owner.client.post('/api/v1/challans', challan({ challanDate: today.toISODate() }));
    assert.equal(ok.status, 201, 'today where the organization is (UTC+14) is accepted');
    const dated = await owner.client.post('/api/v1/challans', { customerId: acme, description: 'Undated' });
    assert.equal(dated.body.challanDate, DateTime.now().setZone('Pacific/Kiritimati').toISODate(), 'the default date is today there');
    const future = await owner.client.post('/api/v1/challans', challan({ challanDate: today.plus({ days: 1 }).toISODate() }));
    assert.equal(future.status, 400);
    assert.equal(future.body.error.details[0].field, 'challanDate');
    await owner.client.patch('/api/v1/organization', { timezone: 'UTC' });

    const early = await owner.client.post('/api/v1/challans', challan({ invoiceNumber: 'INV-1', invoiceDate: '2025-07-02' }));
    assert.equal(early.status, 400);
    assert.deepEqual(early.body.error.details.map((d: { field: string }) => d.field), ['invoiceDate']);
    const made = await create({ invoiceNumber: 'INV-1', invoiceDate: '2025-07-03' });
    const patched = await owner.client.patch(`/api/v1/challans/${made.id}`, { challanDate: '2025-07-04' });
    assert.equal(patched.status, 400, 'a patch is checked with the rest of the challan');
    assert.equal(patched.body.error.details[0].field, 'invoiceDate');
  });

  it('fields the server sets are ignored when a client sends them', async () => {
    const sent = challan({ number: '999999999', podUploadedAt: '2020-01-01T00:00:00Z', createdAt: '2020-01-01T00:00:00Z', createdBy: owner.userId, deletedAt: '2020-01-01T00:00:00Z', invoiceSubmittedAt: '2020-01-01T00:00:00Z' });
    const created = await owner.client.post('/api/v1/challans', sent);
    assert.equal(created.status, 201);
    assert.notEqual(created.body.number, '999999999');
    assert.equal(created.body.podUploadedAt, null);
    assert.equal(created.body.deletedAt, null);
    assert.equal(created.body.invoiceSubmittedAt, null);
    assert.ok(Date.parse(created.body.createdAt) > Date.parse('2024-01-01'));
    const patched = await owner.client.patch(`/api/v1/challans/${created.body.id}`, { description: 'Twelve cartons', number: '111111111', podUploadedAt: '2021-01-01T00:00:00Z' });
    assert.equal(patched.body.description, 'Twelve cartons');
    assert.equal(patched.body.number, created.body.number);
    assert.equal(patched.body.podUploadedAt, null);
  });

  it('a search finds the same rows as a plain ILIKE: invoice numbers whole or in part, words, several words, accents, wildcard characters', async () => {
    const customerId = (await owner.client.post('/api/v1/customers', { name: 'Numbers Ltd', tag: 'NUMS' })).body.id;
    const base = { customerId, challanDate: '2025-03-03', invoiceDate: '2025-03-04' };
    await create({ ...base, invoiceNumber: 'INV/2425/017343' });
    await create({ ...base, invoiceNumber: 'inv/2425/0173430' });
    await create({ ...base, invoiceNumber: 'XINV/2425/017343-B' });
    await create({ ...base, invoiceNumber: 'INV/2526/017343' });
    await create({ customerId, challanDate: '2025-03-03', description: 'Replaces goods of Inv/2425/017343 (returned)' });
    await create({ customerId, challanDate: '2025-03-03', description: 'Order 2425-017343.7 #12' });
    await create({ customerId, challanDate: '2025-03-03', description: 'Ceiling FANS 1200 mm for Ünal Straße', deliveryExecutives: ['Élodie'] });
    await create({ customerId, challanDate: '2025-03-03', description: 'Fans for the ceiling, 50% off_list, path a\\b' });
    const terms = ['INV/2425/017343', 'inv/2425/', '2425/0173', '/017343', 'v/25', '017343-b', '2425-017343.7', '#12', 'inv/2425/017343x',
      'ceiling fans', 'CEILING', 'fans 12', 'fans for', 'ünal', 'ÜNAL STRASSE', 'straße', 'élodie', 'ÉLODIE', '50%', 'fans_for', 'off_list', 'a\\b', 'ling, 5'];
    const escaped = (q: string) => q.replace(/[\\%_]/g, (ch) => `\\${ch}`);
    for (const q of terms) {
      const response = await owner.client.get(`/api/v1/challans?customerId=${customerId}&q=${encodeURIComponent(q)}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const expected = await sql<{ id: string }>`SELECT id FROM delivery_challans
        WHERE customer_id = ${customerId}::uuid AND deleted_at IS NULL AND search_text ILIKE ${`%${escaped(q)}%`}`.execute(app.runtime.ctx.db);
      assert.deepEqual(response.body.items.map((r: Row) => r.id).sort(), expected.rows.map((r) => r.id).sort(), q);
      assert.equal(response.body.total, expected.rows.length, q);
      if (q === 'INV/2425/017343') assert.equal(expected.rows.length, 4, 'both cases, inside a longer number, in a description');
      if (q === 'ceiling fans' || q === 'off_list') assert.equal(expected.rows.length, 1, `${q}: the words together, as typed`);
      if (q === 'fans_for') assert.equal(expected.rows.length, 0, 'an underscore is a character, not a wildcard');
    }
  });

  it('search and every filter narrow the list; sorts page by keyset with a total', async () => {
    const base = { customerId: globex, description: 'Filter set' };
    const a = await create({ ...base, challanDate: '2024-05-01', deliveryExecutives: ['Ravi Kumar'], invoiceNumber: 'FLT-100', invoiceDate: '2024-05-10', invoiceSubmitted: true });
    const b = await create({ ...base, challanDate: '2024-05-15', deliveryExecutives: ['Meena'], invoiceNumber: 'FLT-200', invoiceDate: '2024-06-01' });
    const c = await create({ ...base, challanDate: '2024-06-20', description: 'Filter set: toner cartridges' });
    const ids = (body: { items: Row[] }) => body.items.map((r) => r.id).sort();
    const get = async (query: string) => {
      const response = await owner.client.get(`/api/v1/challans?customerId=${globex}&${query}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    };
    assert.deepEqual(ids(await get('')), [a.id, b.id, c.id].sort());
    assert.deepEqual(ids(await get('q=TONER')), [c.id], 'description, case-insensitive');
    assert.deepEqual(ids(await get('q=ravi')), [a.id], 'executives');
    assert.deepEqual(ids(await get('q=flt-2')), [b.id], 'invoice number');
    assert.deepEqual(ids(await get(`q=${a.number}`)), [a.id], 'challan number');
    assert.deepEqual(ids(await get('q=%25')), [], 'a % is a character, not a wildcard');
    assert.deepEqual(ids(await get('from=2024-05-02&to=2024-06-20')), [b.id, c.id].sort());
    assert.deepEqual(ids(await get('invoice=submitted')), [a.id]);
    assert.deepEqual(ids(await get('invoice=pending')), [b.id, c.id].sort());
    assert.deepEqual(ids(await get('invoiceFrom=2024-05-01')), [a.id, b.id].sort(), 'no invoice date: outside any invoice range');
    assert.deepEqual(ids(await get('invoiceTo=2024-05-31')), [a.id]);
    assert.deepEqual(ids(await get('pod=missing')), [a.id, b.id, c.id].sort());
    assert.deepEqual(ids(await get('pod=received')), []);
    assert.deepEqual(ids(await get('podFrom=2000-01-01')), [], 'no POD: outside any POD range');
    assert.equal((await owner.client.get('/api/v1/challans?from=2024-06-01&to=2024-05-01')).status, 400);
    assert.deepEqual(ids(await get(`q=${encodeURIComponent('Acme')}`)), [], 'filters combine');

    // Invoice date descending: empty dates last, across pages of one.
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5 && cursor !== null; i++) {
      const page = await get(`sort=invoiceDate&order=desc&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.total, 3);
      assert.equal(page.totalExact, true);
      seen.push(...page.items.map((r: Row) => r.id));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, [b.id, a.id, c.id]);
    const byCustomer = await get('sort=number&order=asc&limit=2');
    const wrongSort = await owner.client.get(`/api/v1/challans?sort=customerName&cursor=${byCustomer.nextCursor}`);
    assert.equal(wrongSort.status, 400, "another sort's cursor is refused");
  });

  it('CSV: every field quoted, quotes doubled, days dd-mm-yyyy, no ids; filtered or selected; clipboard blocks', async () => {
    const one = await create({ customerId: globex, challanDate: '2023-02-01', description: '=SUM(A1) "fragile"', deliveryExecutives: ['Anil', 'Bo'], invoiceNumber: 'CSV-1', invoiceDate: '2023-02-05' });
    const two = await create({ customerId: globex, challanDate: '2023-02-02', description: 'Second' });
    const filtered = await owner.client.get('/api/v1/challans.csv?from=2023-02-01&to=2023-02-28');
    assert.equal(filtered.status, 200);
    const lines = String(filtered.body).trim().split('\n');
    assert.equal(lines[0], '"Challan No.","Date","Customer","Description","Delivery Executives","Invoice No.","Invoice Date","Invoice Submission","POD File","POD Uploaded","Created","Created By","Updated","Updated By"');
    assert.equal(lines.length, 3);
    assert.ok(lines[1]!.startsWith(`"${two.number}","02-02-2023","Globex ""Corporate"" Supplies","Second","","","","Pending","",""`), lines[1]);
    assert.ok(lines[2]!.startsWith(`"${one.number}","01-02-2023","Globex ""Corporate"" Supplies","'=SUM(A1) ""fragile""","Anil, Bo","CSV-1","05-02-2023","Pending"`), lines[2]);
    assert.ok(!filtered.body.includes(one.id));
    const selected = await owner.client.post('/api/v1/challans/export', { ids: [one.id] });
    assert.equal(String(selected.body).trim().split('\n').length, 2);

    const clip = await owner.client.post('/api/v1/challans/clipboard', { ids: [two.id, one.id] });
    assert.equal(clip.body, [
      `Challan Number: ${two.number}`, 'Date: 02-02-2023', 'Customer Name: Globex "Corporate" Supplies', 'Description: Second', '-',
      `Challan Number: ${one.number}`, 'Date: 01-02-2023', 'Customer Name: Globex "Corporate" Supplies', 'Description: =SUM(A1) "fragile"',
    ].join('\n'));
  });

  it('invoices: link several challans in one action (all or nothing), then mark them submitted', async () => {
    const x = await create({ challanDate: '2025-01-10' });
    const y = await create({ challanDate: '2025-01-12' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await owner.client.post('/api/v1/challans/invoices', { ids: [x.id, unknown], invoiceNumber: 'INV-77', invoiceDate: '2025-01-20' });
    assert.equal(missing.status, 404);
    assert.equal((await owner.client.get(`/api/v1/challans/${x.id}`)).body.invoiceNumber, null, 'nothing changed');
    const before = await owner.client.post('/api/v1/challans/invoices', { ids: [x.id, y.id], invoiceNumber: 'INV-77', invoiceDate: '2025-01-11' });
    assert.equal(before.status, 400);
    assert.match(before.body.error.details[0].message, new RegExp(y.number));
    const future = await owner.client.post('/api/v1/challans/invoices', { ids: [x.id], invoiceNumber: 'INV-77', invoiceDate: '2999-01-01' });
    assert.equal(future.status, 400);
    assert.equal((await owner.client.post('/api/v1/challans/invoices/submitted', { ids: [x.id] })).status, 400, 'no invoice yet');

    const linked = await owner.client.post('/api/v1/challans/invoices', { ids: [x.id, y.id], invoiceNumber: 'INV-77', invoiceDate: '2025-01-20' });
    assert.equal(linked.status, 200);
    assert.equal(linked.body.updated, 2);
    assert.deepEqual(linked.body.items.map((r: Row) => [r.invoiceNumber, r.invoiceDate]), [['INV-77', '2025-01-20'], ['INV-77', '2025-01-20']]);
    const submitted = await owner.client.post('/api/v1/challans/invoices/submitted', { ids: [x.id, y.id] });
    assert.ok(submitted.body.items.every((r: Row) => r.invoiceSubmitted === true && typeof r.invoiceSubmittedAt === 'string'));
    const audit = await owner.client.get(`/api/v1/audit?action=challan.invoice_linked`);
    const entry = audit.body.items.find((e: { resourceId: string }) => e.resourceId === x.id);
    assert.deepEqual(entry.details.changes.invoiceNumber, { from: null, to: 'INV-77' }, 'the audit says what changed');
  });

  it('deletes are soft and for admins: a second delete is 404, bulk delete counts, restore brings it back', async () => {
    const operator = await app.member(owner, 'operator');
    const viewer = await app.member(owner, 'viewer');
    const x = await create({ challanDate: '2022-03-01' });
    const y = await create({ challanDate: '2022-03-02' });
    assert.equal((await viewer.client.post('/api/v1/challans', challan())).status, 403, 'a viewer cannot write');
    assert.equal((await viewer.client.patch(`/api/v1/challans/${x.id}`, { description: 'no' })).status, 403);
    assert.equal((await operator.client.delete(`/api/v1/challans/${x.id}`)).status, 403);
    assert.equal((await owner.client.delete(`/api/v1/challans/${x.id}`)).status, 204);
    assert.equal((await owner.client.delete(`/api/v1/challans/${x.id}`)).status, 404);
    assert.equal((await owner.client.get(`/api/v1/challans/${x.id}`)).status, 404);
    const bulk = await owner.client.post('/api/v1/challans/bulk-delete', { ids: [x.id, y.id], reason: '  Entered twice  ' });
    assert.deepEqual(bulk.body, { deleted: 1, failed: 1, notFound: [x.id] });
    assert.equal((await owner.client.post('/api/v1/challans/bulk-delete', { ids: [y.id], reason: 'x'.repeat(501) })).status, 400, 'a reason is at most 500 characters');
    const deleted = await owner.client.get('/api/v1/challans?deleted=true&from=2022-03-01&to=2022-03-31&sort=deletedAt');
    assert.deepEqual(deleted.body.items.map((r: Row) => r.id), [y.id, x.id], 'the latest deletion first');
    const [deletedY, deletedX] = deleted.body.items;
    assert.deepEqual([deletedY.deletedBy, deletedY.deletedByName, deletedY.deleteReason], [owner.userId, 'Olive Owner', 'Entered twice'], 'who, and why');
    assert.equal(deletedX.deleteReason, null, 'deleted without a reason');
    assert.ok(Date.parse(deletedY.deletedAt) >= Date.parse(deletedX.deletedAt));
    assert.equal((await viewer.client.get('/api/v1/challans?deleted=true')).status, 403);
    const restored = await owner.client.post(`/api/v1/challans/${y.id}/restore`);
    assert.equal(restored.status, 200);
    assert.equal(restored.body.number, y.number);
    assert.deepEqual([restored.body.deletedAt, restored.body.deletedByName, restored.body.deleteReason], [null, null, null]);
    assert.equal((await owner.client.delete(`/api/v1/challans/${y.id}?reason=${encodeURIComponent('Customer cancelled')}`)).status, 204);
    assert.equal((await owner.client.get('/api/v1/challans?deleted=true&sort=deletedAt&limit=1')).body.items[0].deleteReason, 'Customer cancelled');
    assert.equal((await owner.client.post(`/api/v1/challans/${x.id}/restore`)).status, 200);
    assert.equal((await owner.client.post(`/api/v1/challans/${x.id}/restore`)).status, 404, 'not deleted');
  });

  it("another organization's challans and customers are 404; a site-restricted member sees only their sites'", async () => {
    const inNorth = await create({ siteId: north, challanDate: '2021-01-01' });
    const inSouth = await create({ siteId: south, challanDate: '2021-01-02' });
    const noSite = await create({ challanDate: '2021-01-03' });
    const other = await app.owner('Elsewhere');
    for (const url of [`/api/v1/challans/${inNorth.id}`, `/api/v1/customers/${acme}`]) assert.equal((await other.client.get(url)).status, 404, url);
    assert.equal((await other.client.patch(`/api/v1/challans/${inNorth.id}`, { description: 'x' })).status, 404);
    assert.equal((await other.client.post('/api/v1/challans', challan())).status, 400, "another organization's customer cannot be picked");

    const northClerk = await app.member(owner, 'operator', [north]);
    const list = await northClerk.client.get('/api/v1/challans?from=2021-01-01&to=2021-01-31');
    assert.deepEqual(list.body.items.map((r: Row) => r.id), [inNorth.id]);
    assert.equal(list.body.total, 1);
    for (const id of [inSouth.id, noSite.id]) assert.equal((await northClerk.client.get(`/api/v1/challans/${id}`)).status, 404);
    const outside = await northClerk.client.post('/api/v1/challans', challan());
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error.details[0].field, 'siteId');
    assert.equal((await northClerk.client.post('/api/v1/challans', challan({ siteId: north }))).status, 201);
  });

  it('the live stream delivers a create to readers who may see it', async () => {
    await app.runtime.app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(app.runtime.app.server.address() as AddressInfo).port}`;
    const southViewer = await app.member(owner, 'viewer', [south]);
    const everyone = await SseStream.open(baseUrl, { cookie: owner.client.cookie });
    const southOnly = await SseStream.open(baseUrl, { cookie: southViewer.client.cookie });
    try {
      const made = await create({ siteId: north, challanDate: '2020-06-01', description: 'Live one' });
      const event = await everyone.next((e) => e.event === 'challan.created' && (e.json?.challan as Row | undefined)?.id === made.id);
      assert.equal((event.json!.challan as Row).number, made.number);
      const southMade = await create({ siteId: south, challanDate: '2020-06-02' });
      await southOnly.next((e) => e.event === 'challan.created' && (e.json?.challan as Row | undefined)?.id === southMade.id);
      assert.ok(!southOnly.of('challan.created').some((e) => (e.json?.challan as Row).id === made.id), "the north challan never reached the south viewer");
    } finally {
      everyone.close();
      southOnly.close();
    }
  });
});
