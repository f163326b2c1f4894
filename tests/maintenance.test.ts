import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

const PNG = await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');

/** A multipart/form-data body with one file field, as a browser sends it. */
export function upload(client: ApiClient, url: string, data: Buffer, fileName: string, field = 'file') {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

function day(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

describe('maintenance records', () => {
  let app: TestApp;
  let owner: SignedIn;
  let siteA: string;
  let siteB: string;
  let fridgeA: string;
  let fridgeB: string;

  before(async () => {
    app = await startTestApp({ mediaMaxBytes: 64 * 1024 });
    owner = await app.owner();
    siteA = (await owner.client.post('/api/v1/sites', { name: 'Branch A' })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Branch B' })).body.id;
    fridgeA = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room A', serial: 'CR-A', siteId: siteA })).body.device.id;
    fridgeB = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room B', serial: 'CR-B', siteId: siteB })).body.device.id;
  });
  after(async () => app.close());

  const visit = (overrides: Record<string, unknown> = {}) => ({
    type: 'preventive', performedBy: 'Ana Técnica', description: 'Cleaned condenser, checked gasket', ...overrides,
  });

  it('logs a record with cost, parts and a due date, and lists the history newest performed first, page by page', async () => {
    const created = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({
      performedAt: '2026-01-10T09:00:00Z', cost: 120.5, currency: 'EUR', parts: ['Door gasket', ' Relay '], notes: 'ok', nextDueOn: '2026-07-10',
    }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.cost, 120.5);
    assert.deepEqual(created.body.parts, ['Door gasket', 'Relay']);
    assert.equal(created.body.nextDueOn, '2026-07-10');
    await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({ type: 'inspection', performedAt: '2026-03-01T09:00:00Z' }));
    await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({ type: 'corrective', performedAt: '2025-12-01T09:00:00Z' }));

    const first = await owner.client.get(`/api/v1/devices/${fridgeA}/maintenance?limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.items.map((r: { performedAt: string }) => r.performedAt.slice(0, 10)), ['2026-03-01', '2026-01-10']);
    const second = await owner.client.get(`/api/v1/devices/${fridgeA}/maintenance?limit=2&cursor=${first.body.nextCursor}`);
    assert.deepEqual(second.body.items.map((r: { type: string }) => r.type), ['corrective']);
    assert.equal(second.body.nextCursor, null);
    const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
    const tampered = await owner.client.get(`/api/v1/devices/${fridgeA}/maintenance?cursor=${forged}`);
    assert.equal(tampered.status, 400);
    assert.equal(tampered.body.error.details[0].field, 'cursor');
    const inspections = await owner.client.get(`/api/v1/devices/${fridgeA}/maintenance?type=inspection`);
    assert.equal(inspections.body.items.length, 1);

    const audit = await owner.client.get('/api/v1/audit?action=maintenance.created');
    assert.ok(audit.body.items.some((e: { resourceId: string }) => e.resourceId === created.body.id), 'the creation is audited');
  });

  it('rejects bad input with a reason per field', async () => {
    const missing = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, { type: 'preventive', description: 'x' });
    assert.equal(missing.status, 400);
    assert.ok(missing.body.error.details.some((d: { field: string }) => d.field === 'performedBy'));

    const bad = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({
      type: 'repainting', cost: -1, currency: 'euro', nextDueOn: '2026-02-31',
    }));
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field);
    for (const field of ['type', 'cost', 'currency', 'nextDueOn']) assert.ok(fields.includes(field), `${field} in ${fields}`);

    const rules = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({
      performedBy: '   ', performedAt: new Date(Date.now() + 86_400_000).toISOString(), cost: 10, nextDueOn: '2020-01-01',
    }));
    assert.equal(rules.status, 400);
    const reasons = Object.fromEntries(rules.body.error.details.map((d: { field: string; message: string }) => [d.field, d.message]));
    assert.match(reasons.performedBy, /required/);
    assert.match(reasons.performedAt, /future/);
    assert.match(reasons.currency, /required with a cost/);
    assert.match(reasons.nextDueOn, /before/);
  });

  it('edits and deletes with the audit trail and bus messages; a patch is checked with the whole record', async () => {
    const seen: string[] = [];
    const unsubscribe = app.runtime.ctx.bus.subscribe((message) => {
      if (message.type.startsWith('maintenance.')) seen.push(message.type);
    });
    const created = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit({ cost: 10, currency: 'USD' }));
    const patched = await owner.client.patch(`/api/v1/maintenance/records/${created.body.id}`, { notes: 'second visit needed', nextDueOn: day(30) });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.notes, 'second visit needed');
    assert.equal(patched.body.cost, 10);
    const broken = await owner.client.patch(`/api/v1/maintenance/records/${created.body.id}`, { currency: null });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.details[0].field, 'currency');
    const empty = await owner.client.patch(`/api/v1/maintenance/records/${created.body.id}`, {});
    assert.equal(empty.status, 400);

    assert.equal((await owner.client.delete(`/api/v1/maintenance/records/${created.body.id}`)).status, 204);
    assert.equal((await owner.client.get(`/api/v1/maintenance/records/${created.body.id}`)).status, 404);
    unsubscribe();
    assert.deepEqual(seen, ['maintenance.created', 'maintenance.updated', 'maintenance.deleted']);
    const audit = await owner.client.get('/api/v1/audit?resourceType=maintenance_record');
    const actions = audit.body.items.filter((e: { resourceId: string }) => e.resourceId === created.body.id).map((e: { action: string }) => e.action);
    assert.deepEqual(actions.sort(), ['maintenance.created', 'maintenance.deleted', 'maintenance.updated']);
  });

  it('stores image and PDF attachments checked by content, refuses others and oversize files, serves them only in scope', async () => {
    const created = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit());
    const id = created.body.id;
    const photo = await upload(owner.client, `/api/v1/maintenance/records/${id}/attachments`, PNG, '../../etc/passwd.png');
    assert.equal(photo.status, 201, JSON.stringify(photo.body));
    assert.equal(photo.body.contentType, 'image/jpeg', 'images are kept re-encoded');
    assert.equal(photo.body.fileName, 'passwd.png', 'only the last path segment is kept, as a display name');
    const pdf = await upload(owner.client, `/api/v1/maintenance/records/${id}/attachments`, PDF, 'report.pdf');
    assert.equal(pdf.status, 201);
    assert.equal(pdf.body.contentType, 'application/pdf');

    const disguised = await upload(owner.client, `/api/v1/maintenance/records/${id}/attachments`, Buffer.from('<script>alert(1)</script>'), 'evil.pdf');
    assert.equal(disguised.status, 415);
    const huge = await upload(owner.client, `/api/v1/maintenance/records/${id}/attachments`, Buffer.concat([PDF, Buffer.alloc(70 * 1024)]), 'big.pdf');
    assert.equal(huge.status, 413);
    const wrongField = await upload(owner.client, `/api/v1/maintenance/records/${id}/attachments`, PNG, 'a.png', 'photo');
    assert.equal(wrongField.status, 400);

    const served = await owner.client.get(photo.body.url);
    assert.equal(served.status, 200);
    assert.equal(served.headers['content-type'], 'image/jpeg');
    const pdfServed = await owner.client.get(pdf.body.url);
    assert.match(String(pdfServed.headers['content-disposition']), /^attachment; filename="report.pdf"/);
    const read = await owner.client.get(`/api/v1/maintenance/records/${id}`);
    assert.equal(read.body.attachments.length, 2);

    const restricted = await app.member(owner, 'viewer', [siteB]);
    assert.equal((await restricted.client.get(photo.body.url)).status, 404);
    const other = await app.owner('Other');
    assert.equal((await other.client.get(photo.body.url)).status, 404);
    assert.equal((await upload(other.client, `/api/v1/maintenance/records/${id}/attachments`, PNG, 'x.png')).status, 404);

    assert.equal((await owner.client.delete(`/api/v1/maintenance/attachments/${photo.body.id}`)).status, 204);
    assert.equal((await owner.client.get(photo.body.url)).status, 404);
  });

  it('removes attachment files from storage when their record, or their device, is deleted', async () => {
    const media = app.runtime.ctx.media;
    const keyOf = async (attachmentId: string) =>
      (await app.runtime.ctx.pool.query('SELECT storage_key FROM maintenance_attachments WHERE id = $1', [attachmentId])).rows[0].storage_key as string;

    const record = await owner.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit());
    const onRecord = await upload(owner.client, `/api/v1/maintenance/records/${record.body.id}/attachments`, PDF, 'r.pdf');
    const recordKey = await keyOf(onRecord.body.id);
    assert.ok(await media.exists(recordKey));
    assert.equal((await owner.client.delete(`/api/v1/maintenance/records/${record.body.id}`)).status, 204);
    assert.equal(await media.exists(recordKey), false, 'at once');

    const device = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Short-lived', serial: 'SL-1' })).body.device.id;
    const logged = await owner.client.post(`/api/v1/devices/${device}/maintenance`, visit());
    const onDevice = await upload(owner.client, `/api/v1/maintenance/records/${logged.body.id}/attachments`, PNG, 'd.png');
    const deviceKey = await keyOf(onDevice.body.id);
    assert.equal((await owner.client.delete(`/api/v1/devices/${device}`)).status, 204);
    await app.runtime.jobs.tick('maintenance-files');
    assert.equal(await media.exists(deviceKey), false, 'by the cleanup job');
  });

  it('viewers read, operators write, only managers and up delete', async () => {
    const viewer = await app.member(owner, 'viewer');
    const operator = await app.member(owner, 'operator');
    assert.equal((await viewer.client.get(`/api/v1/devices/${fridgeA}/maintenance`)).status, 200);
    assert.equal((await viewer.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit())).status, 403);
    const logged = await operator.client.post(`/api/v1/devices/${fridgeA}/maintenance`, visit());
    assert.equal(logged.status, 201);
    assert.equal((await operator.client.patch(`/api/v1/maintenance/records/${logged.body.id}`, { notes: 'fixed' })).status, 200);
    assert.equal((await operator.client.delete(`/api/v1/maintenance/records/${logged.body.id}`)).status, 403);
    assert.equal((await viewer.client.request('PUT', '/api/v1/maintenance/settings', { reminderDays: 3 })).status, 403);
  });

  it('a site-restricted member sees only their sites\' records; another organization gets 404', async () => {
    const onB = await owner.client.post(`/api/v1/devices/${fridgeB}/maintenance`, visit({ nextDueOn: day(1) }));
    const restricted = await app.member(owner, 'operator', [siteA]);
    assert.equal((await restricted.client.get(`/api/v1/devices/${fridgeB}/maintenance`)).status, 404);
    assert.equal((await restricted.client.get(`/api/v1/maintenance/records/${onB.body.id}`)).status, 404);
    assert.equal((await restricted.client.patch(`/api/v1/maintenance/records/${onB.body.id}`, { notes: 'x' })).status, 404);
    assert.equal((await restricted.client.post(`/api/v1/devices/${fridgeB}/maintenance`, visit())).status, 404);
    const all = await restricted.client.get('/api/v1/maintenance/records?limit=200');
    assert.ok(all.body.items.length > 0);
    assert.ok(all.body.items.every((r: { deviceId: string }) => r.deviceId === fridgeA));
    const due = await restricted.client.get('/api/v1/maintenance/due?withinDays=365');
    assert.ok(due.body.items.every((d: { deviceId: string }) => d.deviceId !== fridgeB));
    const csv = await restricted.client.get('/api/v1/maintenance/records.csv');
    assert.ok(!String(csv.body).includes(fridgeB));

    const other = await app.owner('Other');
    assert.equal((await other.client.get(`/api/v1/maintenance/records/${onB.body.id}`)).status, 404);
    assert.equal((await other.client.get(`/api/v1/devices/${fridgeB}/maintenance`)).status, 404);
    assert.equal((await other.client.delete(`/api/v1/maintenance/records/${onB.body.id}`)).status, 404);
  });

  it('lists overdue and due-soon devices by their latest due date, and exports them as CSV', async () => {
    const org = await app.owner('Due');
    const make = async (name: string) => (await org.client.post('/api/v1/devices', { kind: 'refrigeration', name, serial: name })).body.device.id as string;
    const [late, soon, far, replaced] = [await make('late'), await make('soon'), await make('far'), await make('replaced')];
    const log = (device: string, performedAt: string, nextDueOn: string | null) =>
      org.client.post(`/api/v1/devices/${device}/maintenance`, visit({ performedAt, nextDueOn }));
    await log(late, '2025-01-01T00:00:00Z', day(-3));
    await log(soon, '2025-01-01T00:00:00Z', day(5));
    await log(far, '2025-01-01T00:00:00Z', day(40));
    await log(replaced, '2025-01-01T00:00:00Z', day(-10));
    await log(replaced, '2025-06-01T00:00:00Z', day(90)); // the later visit sets the schedule

    const due = await org.client.get('/api/v1/maintenance/due');
    assert.equal(due.status, 200);
    assert.equal(due.body.withinDays, 7);
    assert.deepEqual(due.body.items.map((d: { deviceName: string; status: string }) => `${d.deviceName}:${d.status}`), ['late:overdue', 'soon:due_soon']);
    assert.equal(due.body.items[0].daysUntilDue, -3);
    const overdue = await org.client.get('/api/v1/maintenance/due?status=overdue');
    assert.deepEqual(overdue.body.items.map((d: { deviceName: string }) => d.deviceName), ['late']);
    const wider = await org.client.get('/api/v1/maintenance/due?withinDays=60&limit=1');
    assert.equal(wider.body.items.length, 1);
    const rest = await org.client.get(`/api/v1/maintenance/due?withinDays=60&limit=5&cursor=${wider.body.nextCursor}`);
    assert.deepEqual(rest.body.items.map((d: { deviceName: string }) => d.deviceName), ['soon', 'far']);

    const csv = await org.client.get('/api/v1/maintenance/due.csv');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const rows = parse(String(csv.body), { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((r) => [r.device, r.status, r.next_due_on]), [['late', 'overdue', day(-3)], ['soon', 'due_soon', day(5)]]);

    const records = parse(String((await org.client.get('/api/v1/maintenance/records.csv')).body), { columns: true }) as Record<string, string>[];
    assert.equal(records.length, 5);
    assert.equal(records[0]!.device, 'replaced', 'newest performed first');
  });
});
