import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPartition } from '../src/server/core/db/partitions.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

const DAY = 86_400_000;

describe('ingest time window and old months', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    // The production window (the other suites widen it for their fixed-date fixtures).
    app = await startTestApp({ ingestMaxAgeDays: 400, retentionDays: 500 });
    owner = await app.owner();
  });
  after(async () => app.close());

  async function device(by: SignedIn, kind = 'speed_radar') {
    const created = await by.client.post('/api/v1/devices', { kind, name: 'D', serial: `W-${Math.random().toString(36).slice(2)}`, ...(kind === 'speed_radar' && { speedLimit: 30 }) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string };
  }
  const post = (key: string, path: string, payload: unknown) =>
    app.runtime.app.inject({ method: 'POST', url: path, headers: { 'x-api-key': key }, payload: payload as object });
  const value = async (text: string, params: unknown[] = []) => Number((await app.runtime.ctx.pool.query(text, params)).rows[0].n);
  const partitionTables = () => value(`SELECT count(*) AS n FROM pg_class WHERE relispartition AND relkind IN ('r', 'p') AND relname ~ '^(events|telemetry)_'`);
  const monthStart = (offset: number, now = new Date()) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
  const monthName = (table: string, date: Date) => `${table}_y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
  // The middle of this month and of each of the twelve before it: all inside the 400-day window.
  const stamps = Array.from({ length: 13 }, (_, k) => new Date(monthStart(-k).getTime() + 14 * DAY + 3_600_000))
    .filter((d) => d.getTime() < Date.now())
    .map((d) => d.toISOString());

  it('refuses items older than INGEST_MAX_AGE_DAYS, each with the bound, and stores the rest', async () => {
    const radar = await device(owner);
    const events = await post(radar.key, '/api/v1/ingest/events', { events: [{ ts: new Date(Date.now() - 401 * DAY).toISOString(), speed: 30 }, { ts: new Date(Date.now() - 399 * DAY).toISOString(), speed: 31 }] });
    assert.equal(events.statusCode, 200);
    assert.equal(events.json().accepted, 1);
    assert.deepEqual(events.json().rejected, [{ index: 0, errors: [{ field: 'ts', message: 'is more than 400 days old' }] }]);
    const fridge = await device(owner, 'refrigeration');
    const telemetry = await post(fridge.key, '/api/v1/ingest/telemetry', { items: [{ ts: '2019-05-04T03:02:01Z', values: { temperature: 4 } }, { ts: new Date().toISOString(), values: { temperature: 5 } }] });
    assert.equal(telemetry.json().accepted, 1);
    assert.match(telemetry.json().rejected[0].errors[0].message, /is more than 400 days old/);
  });

  it('stores months older than the recent ones in the DEFAULT partition instead of creating a table per month; queries still see them', async () => {
    const radar = await device(owner);
    const fridge = await device(owner, 'refrigeration');
    const tablesBefore = await partitionTables();
    const events = await post(radar.key, '/api/v1/ingest/events', { events: stamps.map((ts, i) => ({ ts, speed: 20 + i })) });
    const telemetry = await post(fridge.key, '/api/v1/ingest/telemetry', { items: stamps.map((ts) => ({ ts, values: { temperature: 4 } })) });
    assert.deepEqual([events.json().accepted, telemetry.json().accepted], [stamps.length, stamps.length]);
    // At most the six months before this one are created on demand: the month and its DEFAULT part, per table.
    const created = (await partitionTables()) - tablesBefore;
    assert.ok(created <= 6 * 2 * 2, `${created} tables were created`);
    for (const k of [7, 9, 12]) assert.equal(await value(`SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [monthName('events', monthStart(-k))]), 0);
    const old = stamps.filter((ts) => Date.parse(ts) < monthStart(-6).getTime()).length;
    assert.equal(await value('SELECT count(*) AS n FROM events_default WHERE device_id = $1', [radar.id]), old);
    assert.equal(await value('SELECT count(*) AS n FROM telemetry_default WHERE device_id = $1', [fridge.id]), old);

    const listed = (await owner.client.get(`/api/v1/events?deviceId=${radar.id}&limit=200`)).body.items.map((e: { ts: string }) => e.ts);
    assert.deepEqual(listed.sort(), [...stamps].sort());
    const from = new Date(Date.parse(stamps.at(-1)!) - DAY).toISOString();
    const readings = (await owner.client.get(`/api/v1/devices/${fridge.id}/telemetry?from=${from}&to=${new Date().toISOString()}`)).body.values;
    assert.equal(readings.length, stamps.length);
    await app.settleRollups();
    const statistics = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar.id}&from=${from.slice(0, 10)}&to=${new Date().toISOString().slice(0, 10)}`)).body;
    assert.equal(statistics.summary.count, stamps.length);

    // A resend into the DEFAULT partition is recognised as one.
    const again = await post(radar.key, '/api/v1/ingest/events', { events: stamps.map((ts, i) => ({ ts, speed: 20 + i })) });
    assert.deepEqual([again.json().accepted, again.json().duplicates], [0, stamps.length]);
  });

  it('never fails to create a month whose rows are already in the DEFAULT partition, and creates months ahead later on', async () => {
    const oldMonth = monthStart(-9);
    assert.ok((await value(`SELECT count(*) AS n FROM events_default WHERE ts >= $1 AND ts < $2`, [oldMonth, monthStart(-8)])) > 0);
    assert.equal(await createPartition(app.runtime.ctx.db, 'events', oldMonth), false);
    assert.equal(await value(`SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [monthName('events', oldMonth)]), 0);
    // Months later, the job moves the DEFAULT partition's bound on and creates the months ahead.
    const later = monthStart(4);
    await app.runtime.services.ingest.preparePartitions(later);
    assert.equal(await value(`SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [monthName('telemetry', monthStart(6))]), 1);
  });

  it('retention deletes old rows of the DEFAULT partition: past RETENTION_DAYS and past an organization\'s retention', async () => {
    const seasonal = await app.owner('Seasonal');
    const shortRadar = await device(seasonal);
    const keptRadar = await device(owner);
    for (const radar of [shortRadar, keptRadar]) await post(radar.key, '/api/v1/ingest/events', { events: stamps.map((ts, i) => ({ ts, speed: 20 + i })) });
    const inDefault = (id: string) => value('SELECT count(*) AS n FROM events_default WHERE device_id = $1', [id]);
    const kept = await inDefault(keptRadar.id);
    assert.ok(kept >= 6);

    await seasonal.client.patch('/api/v1/organization', { retentionDays: 250 });
    const report = await app.runtime.services.retention.run();
    assert.ok(report.deletedEvents >= 1);
    assert.equal(await value(`SELECT count(*) AS n FROM events_default WHERE device_id = $1 AND ts < now() - interval '250 days'`, [shortRadar.id]), 0);
    assert.equal(await inDefault(keptRadar.id), kept, "other organizations' rows stay");

    // 200 days on, RETENTION_DAYS (500) reaches back to 300 days before today.
    await app.runtime.services.retention.run(new Date(Date.now() + 200 * DAY));
    assert.equal(await value(`SELECT count(*) AS n FROM events_default WHERE ts < now() - interval '300 days'`), 0);
    assert.ok((await inDefault(keptRadar.id)) > 0, 'rows inside RETENTION_DAYS stay');
  });
});
