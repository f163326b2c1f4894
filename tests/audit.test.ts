import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('audit log', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  it('records privileged changes with actor, IP, user agent and what changed', async () => {
    const site = await owner.client.request('POST', '/api/v1/sites', { name: 'Audited yard' }, { 'user-agent': 'audit-test/1.0' });
    await owner.client.patch(`/api/v1/sites/${site.body.id}`, { name: 'Renamed yard' });
    const entries = await owner.client.get(`/api/v1/audit?resourceType=site&resourceId=${site.body.id}`);
    assert.equal(entries.status, 200);
    const [updated, created] = entries.body.items;
    assert.equal(created.action, 'site.created');
    assert.equal(created.actor, owner.email);
    assert.equal(created.actorUserId, owner.userId);
    assert.equal(created.ip, '10.0.0.1');
    assert.equal(created.userAgent, 'audit-test/1.0');
    assert.equal(updated.action, 'site.updated');
    assert.deepEqual(updated.details.changes, { name: 'Renamed yard' });
  });

  it('names the resource and lists only the fields an update changed', async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Elm Street radar', serial: 'AUD-1', speedLimit: 25 });
    const id = created.body.device.id;
    // The console's dialog sends every field back; only the limit is new.
    await owner.client.patch(`/api/v1/devices/${id}`, { name: 'Elm Street radar', serial: 'AUD-1', speedLimit: 30 });
    const [updated] = (await owner.client.get(`/api/v1/audit?action=device.updated&resourceId=${id}`)).body.items;
    assert.equal(updated.details.name, 'Elm Street radar');
    assert.deepEqual(updated.details.changedFields, ['speedLimit']);
    assert.deepEqual(updated.details.changes, { speedLimit: 30 });
    const site = await owner.client.post('/api/v1/sites', { name: 'Named yard' });
    await owner.client.patch(`/api/v1/sites/${site.body.id}`, { name: 'Named yard', address: '1 Main St' });
    const [siteUpdate] = (await owner.client.get(`/api/v1/audit?action=site.updated&resourceId=${site.body.id}`)).body.items;
    assert.equal(siteUpdate.details.name, 'Named yard');
    assert.deepEqual(siteUpdate.details.changedFields, ['address']);
  });

  it('records alert acknowledgements and report requests, with what they are about', async () => {
    const fridge = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Audited freezer', serial: 'AUD-F1' });
    await owner.client.post('/api/v1/alert-rules', {
      name: 'Too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 5, durationSeconds: 60, severity: 'major',
    });
    const items = Array.from({ length: 6 }, (_, i) => ({ ts: new Date(Date.now() - (5 - i) * 60_000).toISOString(), values: { temperature: 9 } }));
    const ingest = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': fridge.body.apiKey }, payload: { items } });
    assert.equal(ingest.statusCode, 200, ingest.body);
    const [alert] = (await owner.client.get(`/api/v1/devices/${fridge.body.device.id}/alerts`)).body.items;
    assert.equal((await owner.client.post(`/api/v1/alerts/${alert.id}/acknowledge`, { comment: 'door closed' })).status, 200);
    const [acked] = (await owner.client.get(`/api/v1/audit?action=alert.acknowledged&resourceId=${alert.id}`)).body.items;
    assert.equal(acked.actor, owner.email);
    assert.equal(acked.details.name, alert.message);
    assert.equal(acked.details.comment, 'door closed');

    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const report = await owner.client.post('/api/v1/reports', { kind: 'compliance', deviceId: fridge.body.device.id, from: day, to: day });
    assert.equal(report.status, 202, JSON.stringify(report.body));
    const [requested] = (await owner.client.get(`/api/v1/audit?action=report.requested&resourceId=${report.body.id}`)).body.items;
    assert.equal(requested.details.name, report.body.title);
    assert.equal(requested.details.kind, 'compliance');
  });

  it('records successful and failed logins', async () => {
    await app.client().login(owner.email, 'definitely wrong');
    await app.client().login(owner.email, owner.password);
    const logins = await owner.client.get(`/api/v1/audit?action=auth.login&actorUserId=${owner.userId}`);
    assert.ok(logins.body.items.length >= 2, 'the org log holds this user\'s sign-ins');
    const failures = await app.superadmin.client.get('/api/v1/admin/audit?action=auth.login_failed');
    const mine = failures.body.items.filter((e: { details: { email: string } }) => e.details.email === owner.email);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].details.reason, 'bad_credentials');
  });

  it('records member changes and filters by action prefix and time range', async () => {
    const member = await app.member(owner, 'viewer');
    await owner.client.patch(`/api/v1/members/${member.userId}`, { role: 'operator' });
    const memberEntries = await owner.client.get('/api/v1/audit?action=member');
    const actions = memberEntries.body.items.map((e: { action: string }) => e.action);
    assert.ok(actions.includes('member.invited'));
    assert.ok(actions.includes('member.joined'));
    assert.ok(actions.includes('member.updated'));
    const change = memberEntries.body.items.find((e: { action: string }) => e.action === 'member.updated');
    assert.equal(change.details.before.role, 'viewer');
    assert.equal(change.details.changes.role, 'operator');
    const future = await owner.client.get(`/api/v1/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    assert.equal(future.body.items.length, 0);
    const backwards = await owner.client.get('/api/v1/audit?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z');
    assert.equal(backwards.status, 400);
  });

  it('pages newest first without gaps', async () => {
    for (let i = 0; i < 5; i++) await owner.client.post('/api/v1/sites', { name: `Paged ${i}` });
    const first = await owner.client.get('/api/v1/audit?limit=2&action=site.created');
    const second = await owner.client.get(`/api/v1/audit?limit=2&action=site.created&cursor=${first.body.nextCursor}`);
    const ids = [...first.body.items, ...second.body.items].map((e: { id: number }) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    assert.equal(new Set(ids).size, 4);
  });
});
