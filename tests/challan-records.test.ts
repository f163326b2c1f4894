import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';
import { eventually, smtpSink, webhookReceiver } from './helpers/receivers.js';

function upload(client: ApiClient, url: string, data: Buffer) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="signed.png"\r\nContent-Type: image/png\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

/** The register's upkeep: the purge of long-deleted challans, the POD-outstanding view and its weekly digest. */
describe('challans: purge, outstanding view, weekly digest', () => {
  let app: TestApp;
  let owner: SignedIn;
  let acme: string;
  let sink: Awaited<ReturnType<typeof smtpSink>>;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    sink = await smtpSink();
    receiver = await webhookReceiver();
    app = await startTestApp({ smtp: { host: '127.0.0.1', port: sink.port, secure: false, from: 'Vigil <vigil@example.com>' }, webhookAllowPrivate: ['127.0.0.1'], challanOutstandingDays: 7 });
    owner = await app.owner('Records Office');
    acme = (await owner.client.post('/api/v1/customers', { name: 'Acme Gifts', tag: 'ACME' })).body.id;
  });
  after(async () => {
    await app.close();
    await sink.close();
    await receiver.close();
  });

  const create = async (fields: Record<string, unknown>) => (await owner.client.post('/api/v1/challans', { customerId: acme, description: 'Parcel', ...fields })).body;
  const sql = (text: string, values: unknown[] = []) => app.runtime.ctx.pool.query(text, values);

  it('purges challans deleted more than 30 days ago with their POD files; their numbers are never given again', async () => {
    const old = await create({ challanDate: '2025-03-03' });
    const recent = await create({ challanDate: '2025-03-04' });
    const png = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#c84' } }).png().toBuffer();
    await upload(owner.client, `/api/v1/challans/${old.id}/pod`, png);
    await upload(owner.client, `/api/v1/challans/${old.id}/pod`, png);
    const keys = (await sql('SELECT storage_key, preview_key FROM challan_pod_files WHERE challan_id = $1', [old.id])).rows
      .flatMap((r: { storage_key: string; preview_key: string | null }) => [r.storage_key, r.preview_key].filter((k): k is string => k !== null));
    assert.equal(keys.length, 4, 'two versions, each with a thumbnail');
    for (const key of keys) assert.ok(await app.runtime.ctx.media.exists(key));
    await owner.client.post('/api/v1/challans/bulk-delete', { ids: [old.id, recent.id] });
    await sql(`UPDATE delivery_challans SET deleted_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
    await sql(`UPDATE delivery_challans SET deleted_at = now() - interval '29 days' WHERE id = $1`, [recent.id]);

    assert.equal(await app.runtime.services.challanRecords.purgeDeleted(), 1);
    assert.equal((await sql('SELECT count(*)::int AS n FROM delivery_challans WHERE id = $1', [old.id])).rows[0].n, 0);
    assert.equal((await sql('SELECT count(*)::int AS n FROM challan_pod_files WHERE challan_id = $1', [old.id])).rows[0].n, 0);
    for (const key of keys) assert.equal(await app.runtime.ctx.media.exists(key), false, key);
    assert.equal((await owner.client.post(`/api/v1/challans/${recent.id}/restore`)).status, 200, 'within 30 days it is still restorable');
    assert.equal((await owner.client.post(`/api/v1/challans/${old.id}/restore`)).status, 404);
    const audit = await owner.client.get('/api/v1/audit?action=challan.purged');
    assert.ok(audit.body.items.some((e: { resourceId: string }) => e.resourceId === old.id));

    const next = await create({ challanDate: '2025-03-05' });
    assert.equal(next.number, '250300003', 'the purged 250300001 is not handed out again');
  });

  it('lists challans whose POD or invoice submission is outstanding after N days', async () => {
    const missingPod = await create({ challanDate: '2025-05-01', invoiceNumber: 'I-1', invoiceDate: '2025-05-02', invoiceSubmitted: true });
    const pendingInvoice = await create({ challanDate: '2025-05-02' });
    const done = await create({ challanDate: '2025-05-03', invoiceNumber: 'I-2', invoiceDate: '2025-05-03', invoiceSubmitted: true });
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    await upload(owner.client, `/api/v1/challans/${done.id}/pod`, png);
    await upload(owner.client, `/api/v1/challans/${pendingInvoice.id}/pod`, png);
    const today = new Date().toISOString().slice(0, 10);
    const fresh = await create({ challanDate: today });
    const list = await owner.client.get('/api/v1/challans?outstandingDays=7&from=2025-05-01&limit=100');
    const ids = list.body.items.map((c: { id: string }) => c.id);
    assert.ok(ids.includes(missingPod.id) && ids.includes(pendingInvoice.id));
    assert.ok(!ids.includes(done.id), 'POD received and invoice submitted: not outstanding');
    assert.ok(!ids.includes(fresh.id), 'younger than 7 days: not outstanding yet');
    assert.equal((await owner.client.get('/api/v1/challans?outstandingDays=0')).status, 400);
  });

  it('sends the weekly digest once per week through the channels, with the outstanding challans', async () => {
    await owner.client.post('/api/v1/notification-channels', { name: 'Accounts', kind: 'email', recipients: ['accounts@example.com'] });
    await owner.client.post('/api/v1/notification-channels', { name: 'ERP', kind: 'webhook', url: receiver.url });
    const other = await app.owner('Quiet Office');
    await other.client.post('/api/v1/notification-channels', { name: 'Theirs', kind: 'email', recipients: ['quiet@example.com'] });
    const records = app.runtime.services.challanRecords;
    const wednesday = new Date('2030-01-02T12:00:00Z');
    const sent = await Promise.all([records.sendWeeklyDigests(wednesday), records.sendWeeklyDigests(wednesday)]);
    assert.equal(sent[0] + sent[1], 1, 'two runs at once: one digest');
    assert.equal(await records.sendWeeklyDigests(new Date('2030-01-05T12:00:00Z')), 0, 'later the same week: none');
    const mails = () => sink.received.filter((m) => m.to.includes('accounts@example.com'));
    const hooks = () => receiver.received.filter((r) => r.headers['x-vigil-event'] === 'challans.outstanding');
    await eventually(() => mails().length === 1 && hooks().length === 1, 'the digest by email and webhook');
    const mail = mails()[0]!;
    assert.match(mail.subject, /outstanding in Records Office/);
    const payload = JSON.parse(hooks()[0]!.body);
    const numbers = payload.challans.items.map((c: { number: string }) => c.number);
    const expected = (await sql(`SELECT number FROM delivery_challans WHERE org_id = $1 AND deleted_at IS NULL AND (pod_file_id IS NULL OR NOT invoice_submitted) ORDER BY challan_date, number`, [owner.orgId])).rows.map((r: { number: string }) => r.number);
    assert.deepEqual(numbers, expected, 'every outstanding challan, oldest first');
    assert.equal(payload.challans.total, expected.length);
    for (const number of expected) assert.ok(mail.raw.includes(number), number);
    assert.equal(sink.received.filter((m) => m.to.includes('quiet@example.com')).length, 0, 'an organization with nothing outstanding gets nothing');
    assert.equal(await records.sendWeeklyDigests(new Date('2030-01-07T09:00:00Z')), 1, 'the next Monday after 08:00: the next week');
    assert.equal(await records.sendWeeklyDigests(new Date('2030-01-14T07:00:00Z')), 0, 'a Monday before 08:00: not yet');
  });
});
