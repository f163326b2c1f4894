import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/** Derived refrigeration figures: door open, compressor duty cycle, time outside the safe range. */
describe('equipment figures', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  const at = (hhmm: string) => `2026-06-01T${hhmm}:00Z`;
  async function fridge(settings: Record<string, unknown> = { safeRange: { min: 0, max: 5 } }) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Walk-in', serial: `W-${Math.random().toString(36).slice(2, 8)}`, settings });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.apiKey as string;
    const send = async (items: { ts: string; values: Record<string, number | boolean> }[]) => {
      const answer = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
      assert.equal(answer.statusCode, 200, answer.body);
    };
    return { id: created.body.device.id as string, send };
  }
  const hours = async (client: SignedIn['client'], id: string) =>
    client.get(`/api/v1/devices/${id}/equipment?from=${at('10:00')}&to=2026-06-01T12:00:00Z`);

  it('derives door-open time, compressor duty cycle and time outside the safe range, a reading holding until the next', async () => {
    const unit = await fridge();
    await unit.send([
      { ts: at('09:58'), values: { door: true } },
      { ts: at('10:00'), values: { temperature: 3, compressor: 1 } },
      { ts: at('10:02'), values: { door: false } },
      { ts: at('10:10'), values: { temperature: 7, compressor: 1 } },
      { ts: at('10:20'), values: { temperature: 4, compressor: 0 } },
      { ts: at('10:30'), values: { door: true, compressor: 0 } },
      { ts: at('10:40'), values: { compressor: 0 } },
      { ts: at('10:50'), values: { compressor: 1 } },
    ]);
    const answer = await hours(owner.client, unit.id);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.safeRange, { min: 0, max: 5 });
    const [ten, eleven] = answer.body.buckets;
    assert.equal(ten.ts, '2026-06-01T10:00:00.000Z');
    // Temperature 10:00–10:35 (the last reading holds 15 minutes), 7 °C from 10:10 to 10:20.
    assert.equal(ten.coveredSeconds, 35 * 60);
    assert.equal(ten.outsideRangeSeconds, 10 * 60);
    // Door open 10:00–10:02 (opened at 09:58) and 10:30–10:45.
    assert.equal(ten.doorOpenSeconds, 17 * 60);
    // Compressor on 10:00–10:20 and 10:50–11:00 of 60 observed minutes (readings 10 minutes apart).
    assert.equal(ten.compressorDutyCycle, 0.5);
    assert.equal(ten.temperatureMin, 3);
    assert.equal(ten.temperatureMax, 7);
    // The 10:50 compressor reading holds into the next hour: on 11:00–11:05.
    assert.equal(eleven.ts, '2026-06-01T11:00:00.000Z');
    assert.equal(eleven.compressorDutyCycle, 1);
    assert.equal(eleven.coveredSeconds, 0);
  });

  it('a late reading recomputes its hour; a resent batch changes nothing', async () => {
    const unit = await fridge();
    const first = [{ ts: at('10:00'), values: { temperature: 3 } }, { ts: at('10:20'), values: { temperature: 4 } }];
    await unit.send(first);
    assert.equal((await hours(owner.client, unit.id)).body.buckets[0].outsideRangeSeconds, 0);
    await unit.send([{ ts: at('10:10'), values: { temperature: 9 } }]);
    await unit.send(first);
    const ten = (await hours(owner.client, unit.id)).body.buckets[0];
    assert.equal(ten.outsideRangeSeconds, 10 * 60, '9 °C from 10:10 until 10:20');
    assert.equal(ten.coveredSeconds, 35 * 60);
  });

  it('without a safe range the time outside it is unknown, not zero', async () => {
    const unit = await fridge({});
    await unit.send([{ ts: at('10:00'), values: { temperature: 30 } }]);
    const answer = await hours(owner.client, unit.id);
    assert.equal(answer.body.safeRange, null);
    assert.equal(answer.body.buckets[0].outsideRangeSeconds, null);
  });

  it('checks the safe range, the device kind, and who may read', async () => {
    const bad = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'X', serial: 'BAD-RANGE', settings: { safeRange: { min: 5, max: 0 } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, 'settings.safeRange');
    const radar = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'R', serial: 'EQ-RADAR' });
    assert.equal((await owner.client.get(`/api/v1/devices/${radar.body.device.id}/equipment`)).status, 400);

    const unit = await fridge();
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await hours(viewer.client, unit.id)).status, 200);
    const stranger = await app.owner('Elsewhere');
    assert.equal((await hours(stranger.client, unit.id)).status, 404);
  });
});
