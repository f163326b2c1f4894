import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * Speeding alerts come from the one rule system (issue 5 §8): an event rule on `speedOverLimit`
 * opens an alert for a car at or above the limit in force plus N, through the RushRoster device API.
 */
describe('speeding alerts', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  it('a car at the limit + 10 or more opens one alert; slower speeders do not', async () => {
    const radar = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Elm St', serial: 'RR-SPD-1', speedLimit: 25 });
    assert.equal(radar.status, 201);
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Excessive speed', scope: 'organization', deviceKind: 'speed_radar', condition: 'event', metric: 'speedOverLimit',
      operator: 'gte', threshold: 10, durationSeconds: 600, severity: 'major',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const upload = (events: { timestamp: string; speed: number }[]) => app.runtime.app.inject({
      method: 'POST', url: '/api/ingest/v1/events', headers: { 'x-api-key': radar.body.apiKey },
      payload: { events: events.map((e) => ({ ...e, speed_limit: 25, is_speeding: e.speed > 25, photo_path: null })) },
    });
    const now = Date.now();
    const local = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    assert.equal((await upload([{ timestamp: local(5), speed: 31 }, { timestamp: local(4), speed: 34.9 }])).statusCode, 200);
    const alerts = async () => (await owner.client.get(`/api/v1/devices/${radar.body.device.id}/alerts`)).body.items as { status: string; rule: { id: string } }[];
    assert.equal((await alerts()).length, 0, 'limit + 6 and + 9.9 stay below the rule');

    assert.equal((await upload([{ timestamp: local(3), speed: 35 }, { timestamp: local(2), speed: 52 }])).statusCode, 200);
    const open = await alerts();
    assert.equal(open.length, 1, 'one open alert per rule and device, however many speeders');
    assert.equal(open[0]!.status, 'open');
  });
});
