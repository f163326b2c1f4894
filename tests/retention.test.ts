import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPartition } from '../src/server/ingest/store.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('retention', () => {
  let app: TestApp;
  let keeper: SignedIn;
  let shortLived: SignedIn;
  before(async () => {
    app = await startTestApp({ retentionDays: 400 });
    keeper = await app.owner('Keeper');
    shortLived = await app.owner('Short');
  });
  after(async () => app.close());

  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
  async function radarWithEvents(owner: SignedIn, stamps: string[]) {
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'R', serial: `ret-${Math.random()}`, speedLimit: 30 });
    const response = await app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey },
      payload: { events: stamps.map((ts, i) => ({ ts, speed: 20 + i, client_ref: `r${i}` })) },
    });
    assert.equal(response.json().accepted, stamps.length);
    return created.body.device.id as string;
  }
  const count = async (text: string, params: unknown[] = []) => {
    await app.settleRollups();
    return Number((await app.runtime.ctx.pool.query(text, params)).rows[0].n);
  };

  it("an organization's retention deletes only its own old raw events, keeps their rollups and deletes their photos", async () => {
    const shortDevice = await radarWithEvents(shortLived, [daysAgo(60), daysAgo(45), daysAgo(1)]);
    const keptDevice = await radarWithEvents(keeper, [daysAgo(60), daysAgo(1)]);
    const old = (await app.runtime.ctx.pool.query(`SELECT id, ts FROM events WHERE device_id = $1 ORDER BY ts LIMIT 1`, [shortDevice])).rows[0];
    const photoKey = `photos/${shortDevice}/2026/01/${old.id}.jpg`;
    await app.runtime.ctx.media.put(photoKey, Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg');
    await app.runtime.ctx.pool.query('UPDATE events SET photo_key = $1 WHERE id = $2 AND ts = $3', [photoKey, old.id, old.ts]);
    assert.equal((await shortLived.client.patch('/api/v1/organization', { retentionDays: 30 })).body.retentionDays, 30);

    const report = await app.runtime.services.retention.run();
    assert.equal(report.deletedEvents, 2);
    assert.equal(report.deletedPhotos, 1);
    assert.equal(await app.runtime.ctx.media.exists(photoKey), false);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [shortDevice]), 1);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [keptDevice]), 2, 'other organizations keep theirs');
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = $1', [shortDevice]), 3, 'rollups outlive raw data');
    assert.equal((await app.runtime.services.retention.run()).deletedEvents, 0, 'nothing left to delete');
  });

  it('platform retention drops whole monthly partitions past RETENTION_DAYS', async () => {
    const device = await radarWithEvents(keeper, [daysAgo(2)]);
    // Data from before the retention period, as it would be after the period was shortened.
    for (const month of ['2023-01-15T12:00:00Z', '2023-02-15T12:00:00Z']) {
      await createPartition(app.runtime.ctx.db, 'events', new Date(month));
      await app.runtime.ctx.pool.query(
        `INSERT INTO events (org_id, device_id, ts, client_ref, kind, speed) SELECT org_id, id, $2, 'old', 'speed', 20 FROM devices WHERE id = $1`, [device, month]);
    }
    assert.equal(await count(`SELECT count(*) AS n FROM pg_class WHERE relname IN ('events_y2023m01', 'events_y2023m02')`), 2);
    const report = await app.runtime.services.retention.run();
    assert.ok(report.droppedPartitions.includes('events_y2023m01'));
    assert.ok(report.droppedPartitions.includes('events_y2023m02'));
    assert.equal(await count(`SELECT count(*) AS n FROM pg_class WHERE relname IN ('events_y2023m01', 'events_y2023m02')`), 0);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [device]), 1);
    const key = (await keeper.client.post(`/api/v1/devices/${device}/keys`)).body.apiKey;
    const late = await app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key },
      payload: { events: [{ ts: '2023-01-20T00:00:00Z', speed: 33 }, { ts: daysAgo(200), speed: 34 }] },
    });
    assert.equal(late.json().accepted, 1);
    assert.match(late.json().rejected[0].errors[0].message, /older than this server keeps data \(400 days\)/);
  });

  it('a partition dropped by another process is recreated on the next write', async () => {
    const device = await radarWithEvents(keeper, [daysAgo(3)]);
    const month = new Date(Date.now() - 3 * 86_400_000);
    const name = `events_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
    await app.runtime.ctx.pool.query(`DELETE FROM events WHERE ts >= date_trunc('month', now() - interval '3 days') AND ts < date_trunc('month', now() - interval '3 days') + interval '1 month'`);
    await app.runtime.ctx.pool.query(`ALTER TABLE events DETACH PARTITION ${name}`);
    await app.runtime.ctx.pool.query(`DROP TABLE ${name}`);
    const key = (await keeper.client.post(`/api/v1/devices/${device}/keys`)).body.apiKey;
    const response = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key }, payload: { events: [{ ts: daysAgo(3), speed: 35 }] } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().accepted, 1);
  });
});
