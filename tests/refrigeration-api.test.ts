import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * The refrigeration record through the API: alert texts with units, resolving with the corrective action
 * (kept on the alert and in the audit log), refrigeration settings checked field by field, and equipment
 * figures per local day of the unit's site.
 */
describe('refrigeration API', () => {
  let app: TestApp;
  let owner: SignedIn;
  let site: string;
  let serial = 0;

  async function fridge(settings: Record<string, unknown> = {}, siteId = site) {
    serial += 1;
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: `Cold room ${serial}`, serial: `CR-${serial}`, siteId, settings });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, items: { ts: string; values: Record<string, number> }[]) {
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(sent.statusCode, 200, sent.body);
  }

  const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Cold Chain Ltd');
    site = (await owner.client.post('/api/v1/sites', { name: 'Depot', timezone: 'Asia/Tokyo' })).body.id;
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Too warm', scope: 'organization', deviceKind: 'refrigeration', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 60, severity: 'critical',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
  });

  after(() => app.close());

  it('words an alert with the metric\'s unit, and records the corrective action given on resolving, on the alert and in the audit log', async () => {
    const unit = await fridge({ safeRange: { min: 0, max: 5 } });
    await send(unit.key, [0, 1, 2, 3].map((i) => ({ ts: minutesAgo(10 - i), values: { temperature: 11.6 } })));
    const alerts = (await owner.client.get(`/api/v1/devices/${unit.id}/alerts`)).body.items;
    assert.equal(alerts.length, 1);
    assert.match(alerts[0].message, /temperature is 11\.6 °C \(limit 8 °C\)/);

    const tooLong = await owner.client.post(`/api/v1/alerts/${alerts[0].id}/resolve`, { comment: 'x'.repeat(2001) });
    assert.equal(tooLong.status, 400);
    const resolved = await owner.client.post(`/api/v1/alerts/${alerts[0].id}/resolve`, { comment: '  Moved stock to cold room 2; engineer called  ' });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(resolved.body.resolveComment, 'Moved stock to cold room 2; engineer called');
    assert.equal((await owner.client.get(`/api/v1/alerts/${alerts[0].id}`)).body.resolveComment, 'Moved stock to cold room 2; engineer called');

    const audit = await owner.client.get(`/api/v1/audit?resourceType=alert&resourceId=${alerts[0].id}`);
    assert.equal(audit.status, 200);
    const entry = audit.body.items.find((e: { action: string }) => e.action === 'alert.resolved');
    assert.ok(entry, JSON.stringify(audit.body));
    assert.equal(entry.details.comment, 'Moved stock to cold room 2; engineer called');
    assert.equal(entry.actorUserId, owner.userId);

    // Resolving without a body still works (older clients), with no comment.
    const other = await fridge();
    await send(other.key, [0, 1, 2, 3].map((i) => ({ ts: minutesAgo(10 - i), values: { temperature: 9 } })));
    const second = (await owner.client.get(`/api/v1/devices/${other.id}/alerts`)).body.items[0];
    const bare = await owner.client.post(`/api/v1/alerts/${second.id}/resolve`);
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    assert.equal(bare.body.resolveComment, null);
  });

  it('checks refrigeration settings field by field: the safe range and the metrics\' names, units and kinds', async () => {
    const unit = await fridge();
    const patch = (settings: Record<string, unknown>) => owner.client.patch(`/api/v1/devices/${unit.id}`, { settings });
    const fields = (response: { body: { error?: { details?: { field: string }[] } } }) => (response.body.error?.details ?? []).map((d) => d.field);

    const inverted = await patch({ safeRange: { min: 8, max: 2 } });
    assert.equal(inverted.status, 400);
    assert.deepEqual(fields(inverted), ['settings.safeRange']);
    const absurd = await patch({ safeRange: { min: -500, max: 2 } });
    assert.equal(absurd.status, 400, JSON.stringify(absurd.body));
    assert.deepEqual(fields(absurd), ['settings.safeRange']);
    const badMetrics = await patch({ metrics: { pressure: { unit: 'a very long unit name', kind: 'gauge' } } });
    assert.equal(badMetrics.status, 400);
    assert.deepEqual(fields(badMetrics).sort(), ['settings.metrics.pressure.kind', 'settings.metrics.pressure.unit']);

    const saved = await patch({ safeRange: { min: -2, max: 4 }, metrics: { pressure: { unit: 'bar' } } });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.settings, { safeRange: { min: -2, max: 4 }, metrics: { pressure: { unit: 'bar' } } });
  });

  it('groups equipment figures by the local day of the unit\'s site, not the UTC day', async () => {
    const unit = await fridge({ safeRange: { min: 0, max: 5 } });
    // Tokyo is UTC+9: 13:00Z–17:00Z on 1 December is 22:00 on 1 December to 02:00 on 2 December there.
    const items = [];
    for (let m = 0; m <= 240; m += 5) items.push({ ts: new Date(Date.UTC(2026, 11, 1, 13) + m * 60_000).toISOString(), values: { temperature: 3, door: 0, compressor: m % 10 === 0 ? 1 : 0 } });
    await send(unit.key, items);
    await app.settleRollups();
    const figures = await owner.client.get(`/api/v1/devices/${unit.id}/equipment?from=2026-11-30T00:00:00Z&to=2026-12-03T00:00:00Z&bucket=1d`);
    assert.equal(figures.status, 200, JSON.stringify(figures.body));
    assert.equal(figures.body.timezone, 'Asia/Tokyo');
    assert.deepEqual(figures.body.buckets.map((b: { date: string }) => b.date), ['2026-12-01', '2026-12-02']);
    assert.deepEqual(figures.body.buckets.map((b: { ts: string }) => b.ts), ['2026-11-30T15:00:00.000Z', '2026-12-01T15:00:00.000Z']);
    // Two hours before local midnight, two after (the last reading holds for its 15 minutes).
    assert.deepEqual(figures.body.buckets.map((b: { coveredSeconds: number }) => b.coveredSeconds), [7200, 7200 + 900]);
  });
});
