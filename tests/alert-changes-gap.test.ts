import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * A rule that goes out of force for a device and comes back (the device left the rule's site, the rule was
 * pointed at another site, a device rule overrode it, it was disabled) starts afresh for that device: a
 * "changes" rule notifies only the changes sent after it came back, not those of the time it was out of
 * force; a numeric rule's pending breach counts its duration from the return.
 */
describe('rules coming back into force', { timeout: 60_000 }, () => {
  let app: TestApp;
  let owner: SignedIn;
  let north: string;
  let south: string;
  const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  before(async () => {
    app = await startTestApp();
    owner = await app.owner('Cold stores');
    north = (await owner.client.post('/api/v1/sites', { name: 'North' })).body.id;
    south = (await owner.client.post('/api/v1/sites', { name: 'South' })).body.id;
  });
  after(() => app.close());

  async function device(siteId: string | null) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: `Unit ${randomBytes(3).toString('hex')}`, serial: `U-${randomBytes(4).toString('hex')}`, siteId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }

  async function send(key: string, ts: string, values: Record<string, unknown>) {
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items: [{ ts, values }] } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json().rejected, []);
  }

  async function rule(fields: Record<string, unknown>) {
    const created = await owner.client.post('/api/v1/alert-rules', { name: `Rule ${randomBytes(3).toString('hex')}`, condition: 'metric', severity: 'info', durationSeconds: 60, ...fields });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id as string;
  }

  async function patch(path: string, body: Record<string, unknown>) {
    const response = await owner.client.patch(path, body);
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }

  async function changesOf(deviceId: string, ruleId: string) {
    const response = await owner.client.get(`/api/v1/devices/${deviceId}/alerts`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return (response.body.items as Record<string, unknown>[]).filter((a) => a.ruleId === ruleId).map((a) => `${a.previousText}→${a.latestText}`).sort();
  }

  it('a device that leaves the site of a "changes" rule and comes back is notified only of the changes after its return', async () => {
    const unit = await device(north);
    await send(unit.key, minutes(-50), { mode: 'eco' });
    const id = await rule({ scope: 'site', siteId: north, metric: 'mode', operator: 'changes' });
    await send(unit.key, minutes(-40), { mode: 'eco' });

    await patch(`/api/v1/devices/${unit.id}`, { siteId: south });
    await send(unit.key, minutes(-30), { mode: 'boost' });
    await send(unit.key, minutes(-20), { mode: 'night' });
    assert.deepEqual(await changesOf(unit.id, id), [], 'in the South, the North rule is not in force');

    await patch(`/api/v1/devices/${unit.id}`, { siteId: north });
    await send(unit.key, minutes(-10), { mode: 'day' });
    assert.deepEqual(await changesOf(unit.id, id), ['night→day']);
  });

  it('a "changes" rule pointed at another site and back, or disabled and enabled, notifies only the changes after it is back', async () => {
    const unit = await device(north);
    await send(unit.key, minutes(-90), { fw: 'v1' });
    const id = await rule({ scope: 'site', siteId: north, metric: 'fw', operator: 'changes' });
    await send(unit.key, minutes(-80), { fw: 'v1' });

    await patch(`/api/v1/alert-rules/${id}`, { siteId: south });
    await send(unit.key, minutes(-70), { fw: 'v2' });
    await patch(`/api/v1/alert-rules/${id}`, { siteId: north });
    await send(unit.key, minutes(-60), { fw: 'v3' });
    assert.deepEqual(await changesOf(unit.id, id), ['v2→v3']);

    await patch(`/api/v1/alert-rules/${id}`, { enabled: false });
    await send(unit.key, minutes(-50), { fw: 'v4' });
    await patch(`/api/v1/alert-rules/${id}`, { enabled: true });
    await send(unit.key, minutes(-40), { fw: 'v5' });
    assert.deepEqual(await changesOf(unit.id, id), ['v2→v3', 'v4→v5']);
  });

  it('an organization "changes" rule overridden by a device rule for a while notifies only the changes after the override is deleted', async () => {
    const unit = await device(null);
    await send(unit.key, minutes(-50), { state: 'idle' });
    const id = await rule({ scope: 'organization', metric: 'state', operator: 'changes' });
    await send(unit.key, minutes(-40), { state: 'idle' });

    const override = await rule({ scope: 'device', deviceId: unit.id, metric: 'state', operator: 'equals', textValue: 'fault' });
    await send(unit.key, minutes(-30), { state: 'running' });
    await send(unit.key, minutes(-20), { state: 'paused' });
    assert.equal((await owner.client.delete(`/api/v1/alert-rules/${override}`)).status, 204);
    await send(unit.key, minutes(-10), { state: 'running' });
    assert.deepEqual(await changesOf(unit.id, id), ['paused→running']);
  });

  it('a numeric rule\'s pending breach counts its duration from the device\'s return, not from before it left', async () => {
    const unit = await device(north);
    const id = await rule({ scope: 'site', siteId: north, metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 600 });
    await send(unit.key, minutes(-30), { temperature: 12 });
    await patch(`/api/v1/devices/${unit.id}`, { siteId: south });
    await send(unit.key, minutes(-20), { temperature: 5 });
    await patch(`/api/v1/devices/${unit.id}`, { siteId: north });
    const alertsOfRule = async () => ((await owner.client.get(`/api/v1/devices/${unit.id}/alerts`)).body.items as { ruleId: string }[]).filter((a) => a.ruleId === id);
    await app.runtime.jobs.tick('alert-timers');
    assert.deepEqual(await alertsOfRule(), [], 'the timers do not hold the value from before it left for thirty minutes');
    await send(unit.key, minutes(-1), { temperature: 12 });
    assert.deepEqual(await alertsOfRule(), [], 'warm for one minute since it came back, not thirty');
  });
});
