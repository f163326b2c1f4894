import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { VERSION_CHECK_MS } from '../src/server/alerts/rule-book.js';
import { startRuntime, type Runtime } from '../src/server/runtime.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Two server processes on one database WITHOUT Redis (in-process bus each): a rule changed through one
 * is applied by the other within about a second (the rule-book version check), not after the 60 s TTL.
 */
describe('rule changes across processes without Redis', () => {
  let a: TestApp;
  let b: Runtime;
  let owner: SignedIn;

  before(async () => {
    a = await startTestApp({ redisUrl: undefined });
    b = await startRuntime(a.config, { logger: pino({ level: 'silent' }) });
    owner = await a.owner('Two Servers');
  });
  after(async () => {
    await b.close();
    await a.close();
  });

  async function sendToB(key: string, temperature: number) {
    const items = [-3, -2, -1, 0].map((m) => ({ ts: new Date(Date.now() + m * 60_000).toISOString(), values: { temperature } }));
    const response = await b.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    assert.equal(response.statusCode, 200, response.body);
  }

  const alertsOf = async (deviceId: string) => (await owner.client.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items as { ruleName: string }[];
  const pastTheCheckInterval = () => new Promise((resolve) => setTimeout(resolve, VERSION_CHECK_MS + 100));

  it('a threshold lowered on server A opens an alert for telemetry received by server B', async () => {
    const device = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Shared freezer', serial: 'SF-1' });
    const deviceId = device.body.device.id as string;
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Freezer warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 8, durationSeconds: 60, severity: 'major',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    await sendToB(device.body.apiKey, 5); // B loads and caches the rule book: 5 is within the limit
    assert.deepEqual(await alertsOf(deviceId), []);

    const lowered = await owner.client.patch(`/api/v1/alert-rules/${rule.body.id}`, { threshold: 4, clearThreshold: 3 });
    assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
    await pastTheCheckInterval();
    await sendToB(device.body.apiKey, 5);
    assert.deepEqual((await alertsOf(deviceId)).map((alert) => alert.ruleName), ['Freezer warm'], 'B used the new threshold');
  });

  it('a rule created and a rule disabled on A are seen by B', async () => {
    const device = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Second freezer', serial: 'SF-2' });
    const deviceId = device.body.device.id as string;
    await sendToB(device.body.apiKey, 2);
    const cold = await owner.client.post('/api/v1/alert-rules', {
      name: 'Freezer too cold', scope: 'device', deviceId, condition: 'metric', metric: 'temperature', operator: 'lt', threshold: 0, durationSeconds: 60, severity: 'minor',
    });
    assert.equal(cold.status, 201, JSON.stringify(cold.body));
    await pastTheCheckInterval();
    await sendToB(device.body.apiKey, -3);
    assert.deepEqual((await alertsOf(deviceId)).map((alert) => alert.ruleName), ['Freezer too cold'], 'the new device rule applies on B');

    assert.equal((await owner.client.patch(`/api/v1/alert-rules/${cold.body.id}`, { enabled: false })).status, 200);
    await pastTheCheckInterval();
    await sendToB(device.body.apiKey, -4);
    const after = (await owner.client.get(`/api/v1/alerts?deviceId=${deviceId}`)).body.items as { status: string }[];
    assert.deepEqual(after.map((alert) => alert.status), ['resolved'], 'disabling resolved the alert, and B does not open another');
  });
});
