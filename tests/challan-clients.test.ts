import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { PASSWORD, startTestApp, uniqueEmail, type ApiClient, type SignedIn, type TestApp } from './helpers/app.js';

/** A multipart/form-data body with one file field, as a browser sends it. */
function upload(client: ApiClient, url: string, data: Buffer, fileName: string) {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return client.request('POST', url, body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

/**
 * Client companies: a member of role `client` is scoped to one customer, reads that customer's challans and
 * POD files, and nothing else of the organization.
 */
describe('challans: client-company members', () => {
  let app: TestApp;
  let owner: SignedIn;
  let client: ApiClient;
  let acme: string;
  let globex: string;
  const own: string[] = [];
  const others: string[] = [];
  let ownPodFile: string;
  let otherPodFile: string;
  let deviceId: string;
  let siteId: string;
  // Text that only staff, or only another customer, may ever read: no answer to the client may contain it.
  const SECRETS = ['GLOBEX-SECRET', 'DEVICE-SECRET', 'SITE-SECRET', 'Olive Owner'];

  const invite = (body: Record<string, unknown>) => owner.client.post('/api/v1/invitations', { role: 'client', ...body });

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Client Office');
    const customer = async (body: Record<string, unknown>) => (await owner.client.post('/api/v1/customers', body)).body.id as string;
    acme = await customer({ name: 'Acme Gifts', tag: 'ACME', emailDomains: ['Acme.example'] });
    globex = await customer({ name: 'GLOBEX-SECRET Ltd', tag: 'GLOBEX', emailDomains: ['globex.example'], contact: 'GLOBEX-SECRET contact' });
    siteId = (await owner.client.post('/api/v1/sites', { name: 'SITE-SECRET depot' })).body.id;
    deviceId = (await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'DEVICE-SECRET fridge', serial: 'DS-1' })).body.id;
    for (let i = 0; i < 3; i += 1) {
      own.push((await owner.client.post('/api/v1/challans', { challanDate: '2025-07-03', customerId: acme, description: `Acme parcel ${i}` })).body.id);
      others.push((await owner.client.post('/api/v1/challans', { challanDate: '2025-07-03', customerId: globex, description: `GLOBEX-SECRET parcel ${i}`, siteId })).body.id);
    }
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a6' } }).png().toBuffer();
    ownPodFile = (await upload(owner.client, `/api/v1/challans/${own[0]}/pod`, png, 'signed.png')).body.pod.fileId;
    otherPodFile = (await upload(owner.client, `/api/v1/challans/${others[0]}/pod`, png, 'GLOBEX-SECRET.png')).body.pod.fileId;

    const invitation = await invite({ email: 'buyer@acme.example', customerId: acme });
    assert.equal(invitation.status, 201, JSON.stringify(invitation.body));
    assert.equal(invitation.body.customerId, acme);
    client = app.client();
    const token = new URL(invitation.body.inviteUrl).searchParams.get('token')!;
    const joined = await client.register({ invitationToken: token });
    assert.equal(joined.status, 201, JSON.stringify(joined.body));
    assert.equal(joined.body.role, 'client');
    assert.equal((await client.login('buyer@acme.example', PASSWORD)).status, 200);
  });
  after(async () => app.close());

  it("a client is invited for one customer, from that customer's email domains only", async () => {
    const elsewhere = await invite({ email: uniqueEmail('buyer'), customerId: acme });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error.details[0].field, 'email');
    assert.match(elsewhere.body.error.details[0].message, /acme\.example/);
    const noCustomer = await invite({ email: 'two@acme.example' });
    assert.equal(noCustomer.status, 400);
    assert.equal(noCustomer.body.error.details[0].field, 'customerId');
    const withSites = await invite({ email: 'three@acme.example', customerId: acme, siteIds: [siteId] });
    assert.equal(withSites.status, 400);
    const staffWithCustomer = await owner.client.post('/api/v1/invitations', { email: uniqueEmail(), role: 'viewer', customerId: acme });
    assert.equal(staffWithCustomer.status, 400);
    const bare = (await owner.client.post('/api/v1/customers', { name: 'No Domains', tag: 'NODOM' })).body.id;
    const undomained = await invite({ email: 'x@nodom.example', customerId: bare });
    assert.equal(undomained.status, 400, 'a customer without email domains takes no client members');

    const me = await client.get('/api/v1/auth/me');
    const orgName = (await owner.client.get('/api/v1/auth/me')).body.organization.name;
    const { id, name, role, siteIds, customerId } = me.body.organization;
    assert.deepEqual({ id, name, role, siteIds, customerId }, { id: owner.orgId, name: orgName, role: 'client', siteIds: null, customerId: acme });
    const members = await owner.client.get('/api/v1/members');
    const listed = members.body.items.find((m: { email: string }) => m.email === 'buyer@acme.example');
    assert.equal(listed.role, 'client');
    assert.equal(listed.customerId, acme);
    const promote = await owner.client.patch(`/api/v1/members/${listed.userId}`, { role: 'viewer' });
    assert.equal(promote.status, 400, 'a client member does not become staff by a role change');
  });

  it("sees exactly their customer's challans and POD files, without the staff's names", async () => {
    const list = await client.get('/api/v1/challans?limit=100');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((c: { id: string }) => c.id).sort(), [...own].sort());
    assert.equal(list.body.total, 3);
    assert.ok(list.body.items.every((c: { createdByName: unknown; updatedBy: unknown }) => c.createdByName === null && c.updatedBy === null));
    const filteredToOther = await client.get(`/api/v1/challans?customerId=${globex}`);
    assert.deepEqual(filteredToOther.body.items, []);
    assert.equal((await client.get(`/api/v1/challans/${own[1]}`)).status, 200);
    const file = await client.get(`/api/v1/challans/pod-files/${ownPodFile}`);
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'image/jpeg');
    assert.equal((await client.get(`/api/v1/challans/${own[0]}/pod`)).status, 200);
    const versions = await client.get(`/api/v1/challans/${own[0]}/pod/versions`);
    assert.equal(versions.body.items.length, 1);
    assert.equal(versions.body.items[0].uploadedByName, null);
    const csv = await client.get('/api/v1/challans.csv');
    assert.equal(csv.status, 200);
    assert.equal(csv.body.trim().split('\n').length, 4, 'a header and their three challans');
    const customers = await client.get('/api/v1/customers');
    assert.deepEqual(customers.body.items.map((c: { id: string }) => c.id), [acme]);
  });

  it("answers 404 for another customer's challans and POD files", async () => {
    for (const url of [
      `/api/v1/challans/${others[0]}`, `/api/v1/challans/${others[0]}/pod`, `/api/v1/challans/${others[0]}/pod/versions`,
      `/api/v1/challans/pod-files/${otherPodFile}`, `/api/v1/challans/pod-files/${otherPodFile}/preview`, `/api/v1/customers/${globex}`,
    ]) {
      assert.equal((await client.get(url)).status, 404, url);
    }
    assert.equal((await client.post('/api/v1/challans/clipboard', { ids: [others[0]] })).status, 404);
    const exported = await client.post('/api/v1/challans/export', { ids: others });
    assert.equal(exported.body.trim().split('\n').length, 1, 'only the header');
  });

  it('cannot change anything: every write is refused and nothing changes', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    const attempts = [
      await client.post('/api/v1/challans', { customerId: acme, description: 'Mine' }),
      await client.patch(`/api/v1/challans/${own[1]}`, { description: 'Changed' }),
      await client.delete(`/api/v1/challans/${own[1]}`),
      await client.post('/api/v1/challans/bulk-delete', { ids: [own[1]] }),
      await client.post('/api/v1/challans/invoices', { ids: [own[1]], invoiceNumber: 'X', invoiceDate: '2025-07-04' }),
      await client.post('/api/v1/challans/invoices/submitted', { ids: [own[1]] }),
      await upload(client, `/api/v1/challans/${own[1]}/pod`, png, 'mine.png'),
      await client.patch(`/api/v1/customers/${acme}`, { name: 'Renamed' }),
      await client.post('/api/v1/invitations', { email: 'friend@acme.example', role: 'client', customerId: acme }),
      await client.get('/api/v1/challans?deleted=true'),
    ];
    assert.deepEqual(attempts.map((r) => r.status), Array(attempts.length).fill(403));
    assert.equal((await owner.client.get(`/api/v1/challans/${own[1]}`)).body.description, 'Acme parcel 1');
  });

  it("no GET route of the API answers a client with staff data or another customer's", async () => {
    const docs = JSON.parse((await app.runtime.app.inject({ method: 'GET', url: '/docs/json' })).body) as { paths: Record<string, Record<string, unknown>> };
    const publicRoutes = new Set(app.runtime.routes.filter((r) => r.access === 'public' || r.access === 'device').map((r) => r.url.replace(/:(\w+)/g, '{$1}')));
    const allowed = new Set(['/api/v1/auth/me', '/api/v1/auth/tokens', '/api/v1/console/config']);
    const ids = [others[0]!, otherPodFile, own[0]!, ownPodFile, deviceId, siteId, owner.userId, globex];
    const paths = Object.keys(docs.paths).filter((p) => docs.paths[p]!.get && p.startsWith('/api/') && !publicRoutes.has(p));
    assert.ok(paths.length > 40, `expected the API's GET routes, found ${paths.length}`);
    let answered200 = 0;
    for (const path of paths) {
      const urls = path.includes('{') ? ids.map((id) => path.replace(/\{[^}]+\}/g, id)) : [path];
      for (const url of urls) {
        const response = await client.get(url);
        const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
        for (const secret of SECRETS) assert.ok(!text.includes(secret), `${url} answered a client with "${secret}"`);
        if (response.status === 200) {
          answered200 += 1;
          const challanRoute = path.startsWith('/api/v1/challans') || path.startsWith('/api/v1/customers') || path.startsWith('/api/deliverychallan');
          assert.ok(challanRoute || allowed.has(path), `${url} answered a client 200`);
        } else {
          assert.ok([400, 403, 404].includes(response.status), `${url}: ${response.status}`);
        }
      }
    }
    assert.ok(answered200 >= 8, 'their own challans, POD files and account were readable');
  });
});
