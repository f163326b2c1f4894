import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Rule preview (POST /api/v1/alert-rules/preview): a draft rule replayed over the last week of real
 * readings, per device of its scope, without saving anything.
 */
describe('alert rule preview', () => {
  let app: TestApp;
  let owner: SignedIn;
  let other: SignedIn;
  let siteA: string;
  let siteB: string;
  let serial = 0;
  const devices: Record<string, string> = {};

  /** Minutes from the start of the test (on a whole second), as an ISO timestamp. */
  const start = Math.floor(Date.now() / 1000) * 1000;
  const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();

  async function device(client: SignedIn['client'], name: string, siteId: string | null, kind = 'refrigeration') {
    serial += 1;
    const created = await client.post('/api/v1/devices', { kind, name, serial: `PV-${serial}`, siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  /** One temperature reading a minute: `[fromMinute, toMinute, value]` runs, relative to now. */
  async function temperatures(key: string, runs: [number, number, number][]) {
    const items = runs.flatMap(([from, to, value]) => Array.from({ length: to - from + 1 }, (_, i) => ({ ts: at(from + i), values: { temperature: value } })));
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
  }

  const draft = (overrides: Record<string, unknown> = {}) => ({
    scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, clearThreshold: 6,
    durationSeconds: 300, severity: 'critical', ...overrides,
  });

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Cold Chain');
    other = await app.owner('Other Company');
    siteA = (await owner.client.post('/api/v1/sites', { name: 'Branch A' })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Branch B' })).body.id;

    // Freezer 1: above 8 °C for 11 minutes two days ago (peak 12), back to 4 °C for 10 minutes.
    const freezer1 = await device(owner.client, 'Freezer 1', siteA);
    await temperatures(freezer1.key, [[-2880, -2875, 10], [-2874, -2870, 12], [-2869, -2860, 4]]);
    // Freezer 2: above the threshold for only 3 minutes: never long enough.
    const freezer2 = await device(owner.client, 'Freezer 2', siteA);
    await temperatures(freezer2.key, [[-600, -598, 11], [-597, -590, 5]]);
    // Freezer 3 in the other branch: still above the threshold now, so its alert would still be open.
    const freezer3 = await device(owner.client, 'Freezer 3', siteB);
    await temperatures(freezer3.key, [[-30, -1, 9]]);
    // Ten days ago: outside the preview's week.
    await temperatures(freezer3.key, [[-14_400, -14_380, 20]]);
    const radar = await device(owner.client, 'Radar', siteB, 'speed_radar');
    // Another company's unit, hot all the time.
    const foreign = await device(other.client, 'Foreign freezer', null);
    await temperatures(foreign.key, [[-60, -1, 30]]);
    Object.assign(devices, { freezer1: freezer1.id, freezer2: freezer2.id, freezer3: freezer3.id, radar: radar.id, foreign: foreign.id });
  });

  after(() => app.close());

  it('replays each device of the scope and lists the alerts it would have opened', async () => {
    const response = await owner.client.post('/api/v1/alert-rules/preview', draft({ deviceKind: 'refrigeration' }));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.evaluated, true);
    const byName = new Map((response.body.devices as { name: string; alerts: Record<string, unknown>[]; readings: number }[]).map((d) => [d.name, d]));
    assert.deepEqual([...byName.keys()], ['Freezer 1', 'Freezer 2', 'Freezer 3'], 'refrigeration only, by name, no other tenant');

    const [first, ...rest] = byName.get('Freezer 1')!.alerts;
    assert.equal(rest.length, 0);
    assert.equal(first!.peakValue, 12);
    assert.equal(Date.parse(first!.openedAt as string) - Date.parse(first!.startedAt as string), 300_000, 'opens once the breach held 5 minutes');
    assert.ok(first!.resolvedAt, 'resolved once back below 6 °C for 5 minutes');
    assert.equal(Date.parse(first!.resolvedAt as string) - Date.parse(at(-2869)), 300_000, 'resolves 5 minutes after the first reading below the clear threshold');

    assert.equal(byName.get('Freezer 2')!.alerts.length, 0, 'three minutes is shorter than the duration');
    const open = byName.get('Freezer 3')!;
    assert.equal(open.alerts.length, 1, 'the reading ten days ago is outside the week');
    assert.equal(open.alerts[0]!.resolvedAt, null);
    assert.equal(open.readings, 30);
  });

  it('follows the scope: a site, one device, another tenant\'s device', async () => {
    const site = await owner.client.post('/api/v1/alert-rules/preview', draft({ scope: 'site', siteId: siteB }));
    assert.equal(site.status, 200, JSON.stringify(site.body));
    assert.deepEqual(site.body.devices.map((d: { name: string }) => d.name), ['Freezer 3', 'Radar']);

    const one = await owner.client.post('/api/v1/alert-rules/preview', draft({ scope: 'device', deviceId: devices.freezer1 }));
    assert.deepEqual(one.body.devices.map((d: { name: string }) => d.name), ['Freezer 1']);

    const foreign = await owner.client.post('/api/v1/alert-rules/preview', draft({ scope: 'device', deviceId: devices.foreign }));
    assert.equal(foreign.status, 200);
    assert.deepEqual(foreign.body.devices, [], 'another organization\'s device is never previewed');
  });

  it('is for those who may write rules, within their sites', async () => {
    const viewer = await app.member(owner, 'viewer');
    const operator = await app.member(owner, 'operator');
    assert.equal((await viewer.client.post('/api/v1/alert-rules/preview', draft())).status, 403);
    assert.equal((await operator.client.post('/api/v1/alert-rules/preview', draft())).status, 403);

    const branchManager = await app.member(owner, 'manager', [siteA]);
    const response = await branchManager.client.post('/api/v1/alert-rules/preview', draft());
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(response.body.devices.map((d: { name: string }) => d.name), ['Freezer 1', 'Freezer 2'], 'only the manager\'s branch');
  });

  it('refuses a draft the rule editor would refuse, naming the field', async () => {
    const wrongSide = await owner.client.post('/api/v1/alert-rules/preview', draft({ clearThreshold: 9 }));
    assert.equal(wrongSide.status, 400);
    assert.ok(wrongSide.body.error.details.some((d: { field: string }) => d.field === 'clearThreshold'), JSON.stringify(wrongSide.body));

    const unknownMetric = await owner.client.post('/api/v1/alert-rules/preview', draft({ metric: 'flux_capacitance' }));
    assert.equal(unknownMetric.status, 400);
    assert.ok(unknownMetric.body.error.details.some((d: { field: string }) => d.field === 'metric'));

    const zero = await owner.client.post('/api/v1/alert-rules/preview', draft({ durationSeconds: 0 }));
    assert.equal(zero.status, 400);
  });

  it('lists the covered devices of a silence rule without replaying it', async () => {
    const response = await owner.client.post('/api/v1/alert-rules/preview', { scope: 'organization', condition: 'offline', durationSeconds: 600, severity: 'major', deviceKind: 'speed_radar' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.evaluated, false);
    assert.deepEqual(response.body.devices.map((d: { name: string }) => d.name), ['Radar']);
  });

  it('saves nothing', async () => {
    const rules = await owner.client.get('/api/v1/alert-rules');
    assert.deepEqual(rules.body.items.filter((r: { scope: string }) => r.scope !== 'global'), []);
  });
});
