import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startTestApp, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

/** A multipart form as DC Tracker's console sent it: text fields, and the file in `proof_of_delivery`. */
function form(client: ApiClient, method: string, url: string, fields: Record<string, string>, file?: Buffer) {
  const boundary = `----dc${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = Object.entries(fields).map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="proof_of_delivery"; filename="ack.png"\r\nContent-Type: image/png\r\n\r\n`), file, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return client.request(method, url, Buffer.concat(parts), { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

/** DC Tracker's `/api/deliverychallan/` paths and field names, kept for its scripts, onto the native register. */
describe('challans: the DC Tracker compatibility API', () => {
  let app: TestApp;
  let owner: SignedIn;
  let script: ApiClient;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('DC Office');
    await owner.client.post('/api/v1/customers', { name: 'Acme Gifts Pvt Ltd', tag: 'ACME' });
    // Scripts use a personal API token as a bearer token.
    const token = await owner.client.post('/api/v1/auth/tokens', { name: 'dc script', currentPassword: owner.password });
    script = app.client();
    script.bearer = token.body.token;
  });
  after(async () => app.close());

  it('creates with the original field names (customer by tag or name), ignores read-only fields, and answers them back', async () => {
    const created = await script.post('/api/deliverychallan/', {
      date: '2025-07-03', customer: 'acme', dc_summary: 'Ten cartons of A4 paper', delivery_executives: 'Ravi, Anil',
      invoice_number: 'INV-7', invoice_date: '2025-07-04', invoice_submission: true,
      challan_number: '999999999', pod_upload_date: '2020-01-01T00:00:00Z', created_at: '2020-01-01T00:00:00Z', id: 'x',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const c = created.body;
    assert.match(c.id, /^[0-9a-f]{32}$/);
    assert.equal(c.challan_number, '250700001');
    assert.equal(c.customer, 'Acme Gifts Pvt Ltd');
    assert.equal(c.delivery_executives, 'Ravi, Anil');
    assert.deepEqual([c.invoice_number, c.invoice_date, c.invoice_submission, c.proof_of_delivery, c.pod_upload_date], ['INV-7', '2025-07-04', true, null, null]);
    assert.notEqual(c.created_at, '2020-01-01T00:00:00Z');
    const native = await owner.client.get(`/api/v1/challans/${c.id.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')}`);
    assert.equal(native.body.description, 'Ten cartons of A4 paper');
    assert.deepEqual(native.body.deliveryExecutives, ['Ravi', 'Anil']);

    const byName = await script.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'Acme Gifts Pvt Ltd', dc_summary: 'Pens' });
    assert.equal(byName.body.challan_number, '250700002');
    const unknown = await script.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'Nobody Ltd', dc_summary: 'X' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.details[0].field, 'customer');
    const late = await script.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'ACME', dc_summary: 'X', invoice_number: 'I', invoice_date: '2025-07-01' });
    assert.equal(late.status, 400);
    assert.equal(late.body.error.details[0].field, 'invoice_date', 'native errors name the original fields');
    const badDate = await script.post('/api/deliverychallan/', { date: '03/07/2025', customer: 'ACME', dc_summary: 'X' });
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.error.details[0].field, 'date');
  });

  it('lists every challan as one array in the original order, and gets one by its id in either spelling', async () => {
    await script.post('/api/deliverychallan/', { date: '2025-07-05', customer: 'ACME', dc_summary: 'Later' });
    const list = await script.get('/api/deliverychallan/');
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.body));
    assert.equal(list.body[0].dc_summary, 'Later', 'newest date first');
    const one = await script.get(`/api/deliverychallan/${list.body[0].id}/`);
    assert.equal(one.body.challan_number, list.body[0].challan_number);
    assert.equal((await script.get('/api/deliverychallan/0123456789abcdef0123456789abcdef/')).status, 404);
    assert.equal((await script.get('/api/deliverychallan/not-an-id/')).status, 404);
  });

  it('updates with a multipart PATCH carrying the POD file (cookie session + CSRF, as the console did); PUT changes what it is sent', async () => {
    const made = (await script.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'ACME', dc_summary: 'Boxes' })).body;
    const png = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#48c' } }).png().toBuffer();
    const patched = await form(owner.client, 'PATCH', `/api/deliverychallan/${made.id}/`, { dc_summary: 'Boxes, signed', invoice_submission: 'false', challan_number: '1' }, png);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.dc_summary, 'Boxes, signed');
    assert.equal(patched.body.challan_number, made.challan_number);
    assert.match(patched.body.proof_of_delivery, /\/api\/v1\/challans\/pod-files\/[0-9a-f-]{36}$/);
    assert.ok(patched.body.pod_upload_date);
    const withCsrf = await form(owner.client, 'PATCH', `/api/deliverychallan/${made.id}/`, { dc_summary: 'x' });
    assert.equal(withCsrf.status, 200, 'the session cookie with its CSRF header');
    const bare = app.client();
    bare.cookie = owner.client.cookie;
    assert.equal((await bare.patch(`/api/deliverychallan/${made.id}/`, { dc_summary: 'forged' })).status, 403, 'a cookie without the CSRF header is refused');
    const put = await script.request('PUT', `/api/deliverychallan/${made.id}/`, { invoice_number: 'INV-9', invoice_date: '2025-07-04', invoice_submission: 'on' });
    assert.equal(put.status, 200);
    assert.deepEqual([put.body.invoice_number, put.body.invoice_submission, put.body.dc_summary], ['INV-9', true, 'x']);
    assert.equal((await app.client().get('/api/deliverychallan/')).status, 401);
  });

  it('deletes one (204, then 404) and several with a count of what succeeded and failed', async () => {
    const ids = [];
    for (const summary of ['One', 'Two', 'Three']) ids.push((await script.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'ACME', dc_summary: summary })).body.id);
    assert.equal((await script.delete(`/api/deliverychallan/${ids[0]}/`)).status, 204);
    assert.equal((await script.delete(`/api/deliverychallan/${ids[0]}/`)).status, 404);
    const batch = await script.post('/api/deliverychallan/batch-delete/', { ids: [ids[0], ids[1], ids[2], 'bogus'] });
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.body, { succeeded: 2, failed: 2, failed_ids: [ids[0], 'bogus'] });
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.post('/api/deliverychallan/batch-delete/', { ids: [ids[1]] })).status, 403);
    assert.equal((await viewer.client.post('/api/deliverychallan/', { date: '2025-07-03', customer: 'ACME', dc_summary: 'X' })).status, 403);
  });
});
