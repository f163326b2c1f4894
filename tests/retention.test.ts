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

  const monthName = (table: string, date: Date) => `${table}_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
  const monthStart = (date: Date, offset = 0) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
  const partitionExists = async (name: string) =>
    Number((await app.runtime.ctx.pool.query(`SELECT count(*) AS n FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relname = $1`, [name])).rows[0].n) === 1;

  it("drops an organization's whole months once past its retention; other organizations, rollups and queries are unaffected", async () => {
    const seasonal = await app.owner('Seasonal');
    const orgId = (await seasonal.client.get('/api/v1/organization')).body.id as string;
    assert.equal((await seasonal.client.patch('/api/v1/organization', { retentionDays: 90 })).body.retentionDays, 90);
    const now = new Date();
    const cutoff = new Date(now.getTime() - 90 * 86_400_000);
    const cutoffMonth = monthStart(cutoff);
    // Two months wholly past the cutoff, one that holds it (a row before the cutoff, one after when
    // the month allows), the month after, and yesterday.
    const stamps = [
      new Date(monthStart(cutoff, -2).getTime() + 14 * 86_400_000),
      new Date(monthStart(cutoff, -1).getTime() + 14 * 86_400_000),
      new Date(cutoffMonth.getTime() + (cutoff.getTime() - cutoffMonth.getTime()) / 2),
      new Date(monthStart(cutoff, 1).getTime() + 14 * 86_400_000),
      new Date(now.getTime() - 86_400_000),
    ].map((d) => d.toISOString());
    const shortDevice = await radarWithEvents(seasonal, stamps);
    const otherDevice = await radarWithEvents(keeper, stamps);
    const fridge = await seasonal.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'F', serial: `ret-f-${Math.random()}` });
    const telemetry = await app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': fridge.body.apiKey },
      payload: { items: stamps.map((ts) => ({ ts, values: { temperature: 4 } })) },
    });
    assert.equal(telemetry.json().accepted, 5);

    const dropped = [monthStart(cutoff, -2), monthStart(cutoff, -1)];
    const ownEvents = (month: Date) => `${monthName('events', month)}_o${orgId.replaceAll('-', '')}`;
    const ownTelemetry = (month: Date) => `${monthName('telemetry', month)}_o${orgId.replaceAll('-', '')}`;
    for (const month of [...dropped, cutoffMonth]) assert.ok(await partitionExists(ownEvents(month)), 'months created after the organization set retention have its own part');
    // A resend into a month laid out by organization is recognised as such.
    const resend = await app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': (await seasonal.client.post(`/api/v1/devices/${shortDevice}/keys`)).body.apiKey },
      payload: { events: stamps.map((ts, i) => ({ ts, speed: 20 + i, client_ref: `r${i}` })) },
    });
    assert.deepEqual([resend.json().accepted, resend.json().duplicates], [0, 5]);

    const old = (await app.runtime.ctx.pool.query(`SELECT id, ts FROM events WHERE device_id = $1 ORDER BY ts LIMIT 1`, [shortDevice])).rows[0];
    const photoKey = `photos/${shortDevice}/old/${old.id}.jpg`;
    await app.runtime.ctx.media.put(photoKey, Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg');
    await app.runtime.ctx.pool.query('UPDATE events SET photo_key = $1 WHERE id = $2 AND ts = $3', [photoKey, old.id, old.ts]);

    const report = await app.runtime.services.retention.run(now);
    for (const month of dropped) {
      assert.ok(report.droppedPartitions.includes(ownEvents(month)));
      assert.equal(await partitionExists(ownEvents(month)), false, `${ownEvents(month)} is dropped`);
      assert.equal(await partitionExists(ownTelemetry(month)), false, `${ownTelemetry(month)} is dropped`);
      assert.ok(await partitionExists(monthName('events', month)), 'the month stays for other organizations');
    }
    assert.ok(await partitionExists(ownEvents(cutoffMonth)), 'a month not wholly past the cutoff is kept whole');
    assert.equal(report.deletedEvents, 0, 'nothing of this organization was deleted row by row');
    assert.equal(await app.runtime.ctx.media.exists(photoKey), false, 'photos of dropped events are deleted');

    const shown = (await seasonal.client.get(`/api/v1/events?deviceId=${shortDevice}&limit=200`)).body.items.map((e: { ts: string }) => e.ts).sort();
    assert.deepEqual(shown, stamps.slice(2));
    const others = (await keeper.client.get(`/api/v1/events?deviceId=${otherDevice}&limit=200`)).body.items;
    assert.equal(others.length, 5, "another organization's rows in the same months are untouched");
    assert.equal(await count('SELECT count(*) AS n FROM telemetry WHERE device_id = $1', [fridge.body.device.id]), 3);
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = $1', [shortDevice]), 5, 'rollups outlive raw data');
    assert.equal(await count('SELECT sum(count) AS n FROM telemetry_rollups_hourly WHERE device_id = $1', [fridge.body.device.id]), 5);
  });

  it('gives coming months a part for an organization that sets retention, and lays out an empty month created before migration 0018', async () => {
    const late = await app.owner('Late');
    const orgId = (await late.client.get('/api/v1/organization')).body.id as string;
    const next = monthStart(new Date(), 1);
    const ownNext = `${monthName('events', next)}_o${orgId.replaceAll('-', '')}`;
    assert.equal(await partitionExists(ownNext), false);
    // A plain month, as created ahead by earlier versions.
    await app.runtime.ctx.pool.query(`CREATE TABLE events_y2031m01 PARTITION OF events FOR VALUES FROM ('2031-01-01T00:00:00Z') TO ('2031-02-01T00:00:00Z')`);
    await late.client.patch('/api/v1/organization', { retentionDays: 60 });
    await app.runtime.services.retention.run();
    assert.ok(await partitionExists(ownNext), 'the month created ahead now has a part for the organization');
    assert.equal(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'events_y2031m01' AND relkind = 'p'`), 1);
    assert.ok(await partitionExists('events_y2031m01_default'));
    assert.ok(await partitionExists(`events_y2031m01_o${orgId.replaceAll('-', '')}`));
  });

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

  it("typed telemetry values (text, JSON) go by age too: an organization's own retention, and RETENTION_DAYS for all", async () => {
    const sensor = async (owner: SignedIn) => {
      const created = await owner.client.post('/api/v1/devices', { kind: 'sensor', name: 'S', serial: `ret-${Math.random()}` });
      return { id: created.body.device.id as string, key: created.body.apiKey as string };
    };
    const send = async (key: string, days: number[]) => {
      const response = await app.runtime.app.inject({
        method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key },
        payload: { items: days.map((d) => ({ ts: daysAgo(d), values: { firmware: `v${d}` } })) },
      });
      assert.equal(response.statusCode, 200, response.body);
    };
    const [short, kept] = await Promise.all([sensor(shortLived), sensor(keeper)]);
    await send(short.key, [45, 1]);
    await send(kept.key, [50, 45, 1]);
    // Older than the ingest window accepts: aged in place.
    await app.runtime.ctx.pool.query(`UPDATE telemetry_values SET ts = ts - interval '400 days' WHERE device_id = $1 AND value = '"v50"'`, [kept.id]);
    const values = (deviceId: string) => count('SELECT count(*) AS n FROM telemetry_values WHERE device_id = $1', [deviceId]);
    assert.deepEqual([await values(short.id), await values(kept.id)], [2, 3]);
    await shortLived.client.patch('/api/v1/organization', { retentionDays: 30 });
    await app.runtime.services.retention.run();
    assert.equal(await values(short.id), 1, 'its 45-day-old value is past its 30 days');
    assert.equal(await values(kept.id), 2, 'the other organization keeps 45 days; only the 450-day-old value is past RETENTION_DAYS (400)');
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
    assert.ok(await partitionExists(name), 'the month is created again, not filled into the DEFAULT partition');
  });
});
