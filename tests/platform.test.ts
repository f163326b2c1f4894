import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('platform administration', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => app.close());

  it('the platform figures count organizations, users, devices and the last day of events', async () => {
    const before = (await app.superadmin.client.get('/api/v1/admin/stats')).body;
    const owner = await app.owner('Figures Inc');
    const device = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Counted radar', serial: 'FIG-1' });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const now = Date.now();
    const ingest = await app.runtime.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/events',
      headers: { 'x-api-key': device.body.apiKey },
      payload: { events: [{ ts: new Date(now - 60_000).toISOString(), kind: 'speed', speed: 31 }, { ts: new Date(now - 3 * 86_400_000).toISOString(), kind: 'speed', speed: 22 }] },
    });
    assert.equal(ingest.statusCode, 200, ingest.body);

    const stats = await app.superadmin.client.get('/api/v1/admin/stats');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.organizations, before.organizations + 1);
    assert.equal(stats.body.users, before.users + 1);
    assert.equal(stats.body.devices, before.devices + 1);
    assert.equal(stats.body.eventsLast24h, before.eventsLast24h + 1, 'the three-day-old event is not counted');
    assert.equal((await owner.client.get('/api/v1/admin/stats')).status, 403);
  });

  it('superadmins search organizations by name or slug; owners may not list them', async () => {
    const owner = await app.owner('Lighthouse 50% Keepers');
    await app.owner('Harbor Pilots');
    const byName = await app.superadmin.client.get('/api/v1/organizations?search=lighthouse');
    assert.equal(byName.status, 200);
    const names = (page: { items: { name: string }[] }) => page.items.map((o) => o.name.replace(/ \w+$/, ''));
    assert.deepEqual(names(byName.body), ['Lighthouse 50% Keepers']);
    const bySlug = await app.superadmin.client.get('/api/v1/organizations?search=harbor-pil');
    assert.deepEqual(names(bySlug.body), ['Harbor Pilots']);
    // A wildcard in the search is taken literally.
    const literal = await app.superadmin.client.get(`/api/v1/organizations?search=${encodeURIComponent('0%')}`);
    assert.deepEqual(names(literal.body), ['Lighthouse 50% Keepers']);
    assert.equal((await owner.client.get('/api/v1/organizations?search=harbor')).status, 403);
  });

  it('a platform administrator enters an organization they do not belong to, as its owner, and sees its name', async () => {
    const owner = await app.owner('Quarry Works');
    const admin = app.superadmin.client;
    assert.equal((await admin.post('/api/v1/auth/switch-organization', { organizationId: owner.orgId })).status, 204);
    const me = await admin.get('/api/v1/auth/me');
    assert.equal(me.body.organization.id, owner.orgId);
    assert.equal(me.body.organization.role, 'owner');
    assert.match(me.body.organization.name, /^Quarry Works/);
    assert.ok(!me.body.organizations.some((o: { id: string }) => o.id === owner.orgId), 'without becoming a member');
    const site = await admin.post('/api/v1/sites', { name: 'North pit', timezone: 'UTC' });
    assert.equal(site.status, 201, 'acts there as an owner');
    assert.equal((await owner.client.get('/api/v1/sites')).body.items.length, 1);
    assert.equal((await owner.client.post('/api/v1/auth/switch-organization', { organizationId: app.superadmin.orgId })).status, 404, 'an owner may not');
    assert.equal((await admin.post('/api/v1/auth/switch-organization', { organizationId: app.superadmin.orgId })).status, 204);
  });
});
