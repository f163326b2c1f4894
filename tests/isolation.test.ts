import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('tenant isolation', () => {
  let app: TestApp;
  let acme: SignedIn;
  let globex: SignedIn;
  let globexSite: string;
  before(async () => {
    app = await startTestApp();
    acme = await app.owner('Acme');
    globex = await app.owner('Globex');
    globexSite = (await globex.client.post('/api/v1/sites', { name: 'Globex HQ', lat: 51.5, lon: -0.12 })).body.id;
  });
  after(async () => app.close());

  it("another tenant's site answers 404 to read, change and delete, and is left untouched", async () => {
    assert.equal((await acme.client.get(`/api/v1/sites/${globexSite}`)).status, 404);
    assert.equal((await acme.client.patch(`/api/v1/sites/${globexSite}`, { name: 'Stolen' })).status, 404);
    assert.equal((await acme.client.delete(`/api/v1/sites/${globexSite}`)).status, 404);
    const list = await acme.client.get('/api/v1/sites');
    assert.ok(!list.body.items.some((s: { id: string }) => s.id === globexSite));
    assert.equal((await globex.client.get(`/api/v1/sites/${globexSite}`)).body.name, 'Globex HQ');
  });

  it("another tenant's members, invitations and codes are invisible and untouchable", async () => {
    const invitation = await globex.client.post('/api/v1/invitations', { email: 'someone@example.com', role: 'viewer' });
    const code = await globex.client.post('/api/v1/registration-codes', { role: 'viewer', maxUses: 3 });
    assert.equal((await acme.client.patch(`/api/v1/members/${globex.userId}`, { role: 'viewer' })).status, 404);
    assert.equal((await acme.client.delete(`/api/v1/members/${globex.userId}`)).status, 404);
    assert.equal((await acme.client.delete(`/api/v1/invitations/${invitation.body.id}`)).status, 404);
    assert.equal((await acme.client.delete(`/api/v1/registration-codes/${code.body.id}`)).status, 404);
    const members = await acme.client.get('/api/v1/members');
    assert.deepEqual(members.body.items.map((m: { email: string }) => m.email), [acme.email]);
    const invitations = await acme.client.get('/api/v1/invitations');
    assert.equal(invitations.body.items.length, 0);
  });

  it("naming another tenant's organization in X-Vigil-Org answers 404", async () => {
    const client = acme.client;
    client.orgId = globex.orgId;
    try {
      assert.equal((await client.get('/api/v1/sites')).status, 404);
      assert.equal((await client.get('/api/v1/organization')).status, 404);
    } finally {
      client.orgId = undefined;
    }
    assert.equal((await acme.client.post('/api/v1/auth/switch-organization', { organizationId: globex.orgId })).status, 404);
  });

  it('a platform administrator may act in any organization through X-Vigil-Org', async () => {
    const admin = app.superadmin.client;
    admin.orgId = globex.orgId;
    try {
      const sites = await admin.get('/api/v1/sites');
      assert.deepEqual(sites.body.items.map((s: { id: string }) => s.id), [globexSite]);
    } finally {
      admin.orgId = undefined;
    }
  });

  it("another tenant's audit log does not leak", async () => {
    const audit = await acme.client.get('/api/v1/audit');
    assert.ok(audit.body.items.length > 0);
    assert.ok(audit.body.items.every((e: { resourceId: string | null }) => e.resourceId !== globexSite));
  });

  it('a site restriction is applied in the data layer: a restricted viewer sees only their sites', async () => {
    const north = (await acme.client.post('/api/v1/sites', { name: 'North yard' })).body.id;
    const south = (await acme.client.post('/api/v1/sites', { name: 'South yard' })).body.id;
    const viewer = await app.member(acme, 'viewer', [north]);
    const list = await viewer.client.get('/api/v1/sites');
    assert.deepEqual(list.body.items.map((s: { name: string }) => s.name), ['North yard']);
    assert.equal((await viewer.client.get(`/api/v1/sites/${north}`)).status, 200);
    assert.equal((await viewer.client.get(`/api/v1/sites/${south}`)).status, 404);
    const me = await viewer.client.get('/api/v1/auth/me');
    assert.deepEqual(me.body.organization.siteIds, [north]);
  });

  it('a restricted manager can change only their sites', async () => {
    const east = (await acme.client.post('/api/v1/sites', { name: 'East yard' })).body.id;
    const west = (await acme.client.post('/api/v1/sites', { name: 'West yard' })).body.id;
    const manager = await app.member(acme, 'manager', [east]);
    assert.equal((await manager.client.patch(`/api/v1/sites/${east}`, { address: '1 East Road' })).status, 200);
    assert.equal((await manager.client.patch(`/api/v1/sites/${west}`, { address: 'nope' })).status, 404);
    assert.equal((await manager.client.delete(`/api/v1/sites/${west}`)).status, 404);
  });

  it('a user in two organizations switches between them and sees each one\'s data', async () => {
    const both = await app.member(acme, 'viewer');
    const invitation = await globex.client.post('/api/v1/invitations', { email: both.email, role: 'viewer' });
    const token = new URL(invitation.body.inviteUrl).searchParams.get('token');
    const accepted = await app.client().register({ invitationToken: token, password: both.password });
    assert.equal(accepted.status, 201, 'an existing account accepts with its password');
    const me = await both.client.get('/api/v1/auth/me');
    assert.equal(me.body.organizations.length, 2);
    assert.equal((await both.client.post('/api/v1/auth/switch-organization', { organizationId: globex.orgId })).status, 204);
    const sites = await both.client.get('/api/v1/sites');
    assert.deepEqual(sites.body.items.map((s: { id: string }) => s.id), [globexSite]);
  });
});
