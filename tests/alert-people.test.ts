import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/** GET /api/v1/alerts/{id}/people: who acknowledged and resolved an alert, by name, to whoever may see the alert. */
describe('alert people', () => {
  let app: TestApp;
  let owner: SignedIn;
  let operator: SignedIn;
  let alertId: string;
  let siteA: string;
  let siteB: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Cold Chain');
    siteA = (await owner.client.post('/api/v1/sites', { name: 'Branch A' })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Branch B' })).body.id;
    const device = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer', serial: 'PP-1', siteId: siteA });
    assert.equal(device.status, 201, JSON.stringify(device.body));
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 60, severity: 'critical',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const now = Date.now();
    const items = [-120, -60, 0].map((s) => ({ ts: new Date(now + s * 1000).toISOString(), values: { temperature: 12 } }));
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': device.body.apiKey }, payload: { items } });
    assert.equal(sent.statusCode, 200, sent.body);
    const alerts = await owner.client.get(`/api/v1/devices/${device.body.device.id}/alerts`);
    alertId = alerts.body.items[0].id;
    operator = await app.member(owner, 'operator');
  });

  after(() => app.close());

  it('names nobody before anyone acted, then who acknowledged and who resolved', async () => {
    const viewer = await app.member(owner, 'viewer');
    assert.deepEqual((await viewer.client.get(`/api/v1/alerts/${alertId}/people`)).body, { acknowledgedBy: null, resolvedBy: null });

    assert.equal((await operator.client.post(`/api/v1/alerts/${alertId}/acknowledge`, { comment: 'on it' })).status, 200);
    assert.equal((await owner.client.post(`/api/v1/alerts/${alertId}/resolve`)).status, 200);
    const operatorName = (await operator.client.get('/api/v1/auth/me')).body.user.name;
    const ownerName = (await owner.client.get('/api/v1/auth/me')).body.user.name;
    const people = await viewer.client.get(`/api/v1/alerts/${alertId}/people`);
    assert.equal(people.status, 200);
    assert.deepEqual(people.body, { acknowledgedBy: { id: operator.userId, name: operatorName }, resolvedBy: { id: owner.userId, name: ownerName } });
  });

  it('answers 404 to another organization and to a member restricted to other sites', async () => {
    const stranger = await app.owner('Other Company');
    assert.equal((await stranger.client.get(`/api/v1/alerts/${alertId}/people`)).status, 404);
    const elsewhere = await app.member(owner, 'viewer', [siteB]);
    assert.equal((await elsewhere.client.get(`/api/v1/alerts/${alertId}/people`)).status, 404);
    const here = await app.member(owner, 'viewer', [siteA]);
    assert.equal((await here.client.get(`/api/v1/alerts/${alertId}/people`)).status, 200);
  });
});
