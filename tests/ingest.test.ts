import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusMessage } from '../src/server/core/bus.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

describe('native ingest API', () => {
  let app: TestApp;
  let owner: SignedIn;
  const published: BusMessage[] = [];
  before(async () => {
    app = await startTestApp({ ingestMaxBatch: 50 });
    owner = await app.owner();
    app.runtime.ctx.bus.subscribe((m) => published.push(m));
  });
  after(async () => app.close());

  async function device(overrides: Record<string, unknown> = {}) {
    const created = await owner.client.post('/api/v1/devices', {
      kind: 'speed_radar', name: 'Radar', serial: `S-${Math.random().toString(36).slice(2)}`, speedLimit: 30, ...overrides,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.device.id as string, key: created.body.apiKey as string, keyId: created.body.key.id as string };
  }

  const send = (key: string | undefined, path: string, body: unknown) =>
    app.runtime.app.inject({
      method: 'POST',
      url: path,
      headers: { ...(key && { 'x-api-key': key }), 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const count = async (sqlText: string, params: unknown[]) => {
    await app.settleRollups();
    return Number((await app.runtime.ctx.pool.query(sqlText, params)).rows[0].n);
  };

  const speeds = (n: number, start = Date.parse('2026-03-10T08:00:00Z')) =>
    Array.from({ length: n }, (_, i) => ({ client_ref: `ev-${i}`, ts: new Date(start + i * 60_000).toISOString(), kind: 'speed', speed: 20 + i }));

  it('stores a batch once: a resend stores nothing new, reports duplicates and returns the same ids', async () => {
    const radar = await device();
    const batch = { events: speeds(20) };
    const first = await send(radar.key, '/api/v1/ingest/events', batch);
    assert.equal(first.statusCode, 200);
    const body = first.json();
    assert.equal(body.accepted, 20);
    assert.equal(body.duplicates, 0);
    const again = (await send(radar.key, '/api/v1/ingest/events', batch)).json();
    assert.equal(again.accepted, 0);
    assert.equal(again.duplicates, 20);
    assert.deepEqual(again.events.map((e: { id: string }) => e.id), body.events.map((e: { id: string }) => e.id));
    assert.ok(again.events.every((e: { duplicate: boolean }) => e.duplicate));
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]), 20);
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = $1', [radar.id]), 20, 'rollups count each event once');
    assert.equal(await count('SELECT sum(count) AS n FROM speed_histogram_hourly WHERE device_id = $1', [radar.id]), 20);
  });

  it('a batch partly stored before keeps its new items and counts each event once in the rollups', async () => {
    const radar = await device();
    assert.equal((await send(radar.key, '/api/v1/ingest/events', { events: speeds(10) })).json().accepted, 10);
    const mixed = (await send(radar.key, '/api/v1/ingest/events', { events: speeds(25) })).json();
    assert.equal(mixed.accepted, 15);
    assert.equal(mixed.duplicates, 10);
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = $1', [radar.id]), 25);
  });

  it('rollup reads see every committed batch, whether the background fold ran or not', async () => {
    const radar = await device();
    const summary = async () => (await owner.client.get(`/api/v1/events/summary?deviceId=${radar.id}&from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z`)).body.events;
    await send(radar.key, '/api/v1/ingest/events', { events: speeds(5) });
    assert.equal(await app.runtime.services.rollups.foldPending() > 0, true, 'the background fold takes pending batches');
    await send(radar.key, '/api/v1/ingest/events', { events: speeds(12).slice(5) });
    assert.equal(await summary(), 12, 'the read folds the batch still pending');
  });

  it('items without client_ref are deduplicated by content', async () => {
    const radar = await device();
    const batch = { events: [{ ts: '2026-03-10T09:00:00Z', speed: 31 }, { ts: '2026-03-10T09:00:01Z', speed: 31 }] };
    assert.equal((await send(radar.key, '/api/v1/ingest/events', batch)).json().accepted, 2);
    assert.equal((await send(radar.key, '/api/v1/ingest/events', batch)).json().duplicates, 2);
  });

  it('two identical batches arriving at once are stored once', async () => {
    const radar = await device();
    const batch = { events: speeds(30) };
    const [a, b] = await Promise.all([send(radar.key, '/api/v1/ingest/events', batch), send(radar.key, '/api/v1/ingest/events', batch)]);
    assert.equal(a.json().accepted + b.json().accepted, 30);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]), 30);
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = $1', [radar.id]), 30);
  });


  it('concurrent, overlapping event batches of several devices each get their own answer, with one id per event', async () => {
    const radars = await Promise.all([device(), device(), device()]);
    // Per radar: events 0–19, and at the same time an overlapping copy of events 10–29.
    const all = speeds(30);
    const answers = await Promise.all(radars.flatMap((r) => [
      send(r.key, '/api/v1/ingest/events', { events: all.slice(0, 20) }),
      send(r.key, '/api/v1/ingest/events', { events: all.slice(10, 30) }),
    ]));
    for (const [n, radar] of radars.entries()) {
      const [a, b] = [answers[2 * n]!.json(), answers[2 * n + 1]!.json()];
      assert.equal(a.accepted + b.accepted, 30, 'each event stored once per radar');
      assert.equal(a.duplicates + b.duplicates, 10, 'the overlap is reported as duplicates');
      const stored = (await app.runtime.ctx.pool.query('SELECT id::text, client_ref FROM events WHERE device_id = $1', [radar.id])).rows;
      assert.equal(stored.length, 30);
      const idOf = new Map(stored.map((row) => [row.client_ref as string, row.id as string]));
      // Both answers give every event the id it is stored under, the overlap included.
      for (const [answer, first] of [[a, 0], [b, 10]] as const) {
        assert.deepEqual(answer.events.map((e: { id: string }) => e.id), all.slice(first, first + 20).map((e) => idOf.get(e.client_ref)));
      }
    }
    assert.equal(await count('SELECT sum(events) AS n FROM event_rollups_hourly WHERE device_id = ANY($1::uuid[])', [radars.map((r) => r.id)]), 90);
  });
  it('stores the valid items of a batch and reports each invalid one by index with reasons', async () => {
    const radar = await device();
    const now = Date.now();
    const response = await send(radar.key, '/api/v1/ingest/events', {
      events: [
        { client_ref: 'ok-1', ts: '2026-03-11T10:00:00Z', speed: 28 },
        { client_ref: 'fast', ts: '2026-03-11T10:00:01Z', speed: 512 },
        { client_ref: 'future', ts: new Date(now + 3 * 86_400_000).toISOString(), speed: 20 },
        { client_ref: 'ancient', ts: '1999-12-31T23:59:59Z', speed: 20 },
        { client_ref: 'nan', ts: '2026-03-11T10:00:02Z', speed: 'NaN' },
        { client_ref: 'neg', ts: '2026-03-11T10:00:03Z', speed: -4 },
        { client_ref: 'badts', ts: 'yesterday', speed: 20 },
        'not an object',
        { client_ref: 'ok-1', ts: '2026-03-11T10:00:00Z', speed: 28 },
        { client_ref: 'ok-2', ts: '2026-03-11T10:00:04Z', speed: 33, severity: 'loud' },
        { client_ref: 'ok-3', ts: '2026-03-11T10:00:05Z', speed: 35, kind: 'speed', attributes: { lane: 2 } },
      ],
    });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.accepted, 2);
    const byIndex = Object.fromEntries(body.rejected.map((r: { index: number; errors: { field: string; message: string }[] }) => [r.index, r.errors]));
    assert.deepEqual(Object.keys(byIndex).map(Number), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(byIndex[1][0].field, 'speed');
    assert.match(byIndex[2][0].message, /future/);
    assert.match(byIndex[3][0].message, /2000/);
    assert.equal(byIndex[4][0].field, 'speed');
    assert.equal(byIndex[6][0].field, 'ts');
    assert.match(byIndex[8][0].message, /repeats item 0/);
    assert.equal(byIndex[9][0].field, 'severity');
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]), 2);
  });

  it('rejects a malformed envelope, an empty batch and an oversized one', async () => {
    const radar = await device();
    const malformed = await send(radar.key, '/api/v1/ingest/events', '{"events": [');
    assert.equal(malformed.statusCode, 400);
    assert.equal((await send(radar.key, '/api/v1/ingest/events', { events: 'lots' })).statusCode, 400);
    const empty = await send(radar.key, '/api/v1/ingest/events', { events: [] });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, 'empty_batch');
    const big = await send(radar.key, '/api/v1/ingest/events', { events: speeds(51) });
    assert.equal(big.statusCode, 413);
    assert.match(big.json().error.message, /at most 50/);
    assert.equal(await count('SELECT count(*) AS n FROM events WHERE device_id = $1', [radar.id]), 0);
  });

  it('refuses a missing, unknown, revoked or rotated-out key with 401', async () => {
    const radar = await device();
    assert.equal((await send(undefined, '/api/v1/ingest/events', { events: speeds(1) })).statusCode, 401);
    assert.equal((await send(`rushroster_${'0'.repeat(64)}`, '/api/v1/ingest/events', { events: speeds(1) })).statusCode, 401);
    const rotated = await owner.client.post(`/api/v1/devices/${radar.id}/keys/${radar.keyId}/rotate`);
    assert.equal((await send(radar.key, '/api/v1/ingest/events', { events: speeds(1) })).statusCode, 401);
    assert.equal((await send(rotated.body.apiKey, '/api/v1/ingest/events', { events: speeds(1) })).statusCode, 200);
    await owner.client.delete(`/api/v1/devices/${radar.id}/keys/${rotated.body.key.id}`);
    assert.equal((await send(rotated.body.apiKey, '/api/v1/ingest/events', { events: speeds(1) })).statusCode, 401);
  });

  it('reads a timestamp without offset in the site time zone and keeps the device string', async () => {
    const site = (await owner.client.post('/api/v1/sites', { name: 'Brooklyn', timezone: 'America/New_York' })).body.id;
    const radar = await device({ siteId: site });
    const response = await send(radar.key, '/api/v1/ingest/events', {
      events: [{ ts: '2026-07-01T12:00:00.120000', speed: 25 }, { ts: '2026-07-01T12:00:00+02:00', speed: 26 }],
    });
    assert.equal(response.json().accepted, 2);
    const rows = (await app.runtime.ctx.pool.query('SELECT ts, device_ts, speed FROM events WHERE device_id = $1 ORDER BY speed', [radar.id])).rows;
    assert.equal(rows[0].ts.toISOString(), '2026-07-01T16:00:00.120Z', 'New York summer time is UTC-4');
    assert.equal(rows[0].device_ts, '2026-07-01T12:00:00.120000');
    assert.equal(rows[1].ts.toISOString(), '2026-07-01T10:00:00.000Z');
  });

  it('stores an old month in the DEFAULT partition instead of creating its partition', async () => {
    const radar = await device();
    const response = await send(radar.key, '/api/v1/ingest/events', { events: [{ ts: '2019-05-04T03:02:01Z', speed: 22 }] });
    assert.equal(response.json().accepted, 1);
    assert.equal(await count(`SELECT count(*) AS n FROM pg_class WHERE relname = 'events_y2019m05'`, []), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM events_default WHERE device_id = $1`, [radar.id]), 1);
  });

  it('rolls up speeds per hour: count, min, max, speeding against the limit in force, 1-unit histogram', async () => {
    const radar = await device({ speedLimit: 30 });
    await send(radar.key, '/api/v1/ingest/events', {
      events: [
        { ts: '2026-04-01T10:05:00Z', speed: 29.9 },
        { ts: '2026-04-01T10:06:00Z', speed: 30 },
        { ts: '2026-04-01T10:07:00Z', speed: 41.5 },
        { ts: '2026-04-01T10:08:00Z', speed: 25, speed_limit: 20 },
        { ts: '2026-04-01T11:00:00Z', speed: 12 },
      ],
    });
    await app.settleRollups();
    const hours = (await app.runtime.ctx.pool.query(
      'SELECT hour, events, speeding, speed_min, speed_max FROM event_rollups_hourly WHERE device_id = $1 ORDER BY hour', [radar.id])).rows;
    assert.equal(hours.length, 2);
    assert.equal(hours[0].events, 4);
    assert.equal(hours[0].speeding, 2, '41.5, and 25 at its own 20 limit; 30 at a 30 limit is not over it');
    assert.equal(hours[0].speed_min, 25);
    assert.equal(hours[0].speed_max, 41.5);
    const bins = (await app.runtime.ctx.pool.query(
      `SELECT bin, count FROM speed_histogram_hourly WHERE device_id = $1 AND hour = '2026-04-01T10:00:00Z' ORDER BY bin`, [radar.id])).rows;
    assert.deepEqual(bins.map((b) => [b.bin, b.count]), [[25, 1], [29, 1], [30, 1], [41, 1]]);
  });

  it('marks the device online and publishes status and events for live consoles', async () => {
    const radar = await device();
    assert.equal((await owner.client.get(`/api/v1/devices/${radar.id}`)).body.status, 'offline');
    await send(radar.key, '/api/v1/ingest/events', { events: [{ ts: new Date().toISOString(), speed: 44 }] });
    const detail = (await owner.client.get(`/api/v1/devices/${radar.id}`)).body;
    assert.equal(detail.status, 'online');
    assert.ok(detail.lastSeenAt);
    const status = published.find((m) => m.type === 'device.status' && m.data.deviceId === radar.id);
    assert.equal(status?.data.status, 'online');
    const events = published.find((m) => m.type === 'events.ingested' && m.data.deviceId === radar.id);
    assert.equal(events?.orgId, owner.orgId);
    assert.equal((events?.data.events as { speed: number }[])[0]!.speed, 44);
    const keys = (await owner.client.get(`/api/v1/devices/${radar.id}/keys`)).body.items;
    assert.ok(keys[0].lastUsedAt, 'the key records its last use');
  });

  it('sheds load with 429 and Retry-After rather than queueing without bound', async () => {
    const busy = await startTestApp({ ingestMaxPendingItems: 1 });
    try {
      const o = await busy.owner();
      const key = (await o.client.post('/api/v1/devices', { kind: 'sensor', name: 'S', serial: 'S1' })).body.apiKey;
      const responses = await Promise.all(Array.from({ length: 8 }, (_, n) =>
        busy.runtime.app.inject({
          method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': key },
          payload: { events: Array.from({ length: 200 }, (_, i) => ({ client_ref: `${n}-${i}`, ts: '2026-03-01T00:00:00Z', speed: 10 })) },
        })));
      const statuses = responses.map((r) => r.statusCode);
      assert.ok(statuses.includes(200), statuses.join(','));
      const shed = responses.find((r) => r.statusCode === 429);
      assert.ok(shed, `expected a 429 among ${statuses.join(',')}`);
      assert.ok(['1', '2', '3'].includes(String(shed.headers['retry-after'])), 'Retry-After of 1–3 s, spread');
    } finally {
      await busy.close();
    }
  });
});

describe('telemetry ingest', () => {
  let app: TestApp;
  let owner: SignedIn;
  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
  });
  after(async () => app.close());

  it('stores readings (0 stays 0, booleans as 1/0), rolls them up, and dedupes a resend', async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Cold room', serial: 'CR-7' });
    const key = created.body.apiKey;
    const post = (items: unknown[]) =>
      app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key }, payload: { items } });
    const items = [
      { ts: '2026-05-01T10:00:00Z', values: { temperature: 0, pressure: 2.5, door: false } },
      { ts: '2026-05-01T10:01:00Z', values: { temperature: -3.5, door: true } },
      { ts: '2026-05-01T10:02:00Z', values: { temperature: null } },
      { ts: '2026-05-01T10:03:00Z', values: {} },
    ];
    const first = (await post(items)).json();
    assert.equal(first.accepted, 2);
    assert.equal(first.values, 5);
    assert.deepEqual(first.rejected.map((r: { index: number }) => r.index), [2, 3]);
    assert.equal(first.rejected[0].errors[0].field, 'values.temperature');
    const again = (await post(items.slice(0, 2))).json();
    assert.equal(again.accepted, 0);
    assert.equal(again.duplicates, 2);
    const rows = (await app.runtime.ctx.pool.query(
      `SELECT metric, value FROM telemetry WHERE device_id = $1 ORDER BY ts, metric`, [created.body.device.id])).rows;
    assert.deepEqual(rows.map((r) => [r.metric, r.value]), [['door', 0], ['pressure', 2.5], ['temperature', 0], ['door', 1], ['temperature', -3.5]]);
    await app.settleRollups();
    const rollup = (await app.runtime.ctx.pool.query(
      `SELECT count, min, max, sum FROM telemetry_rollups_hourly WHERE device_id = $1 AND metric = 'temperature'`, [created.body.device.id])).rows[0];
    assert.deepEqual(rollup, { count: 2, min: -3.5, max: 0, sum: -3.5 });
  });

  it('announces newly stored readings on the live stream: times, values and the latest readings; a resend announces nothing', async () => {
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Freezer', serial: 'FZ-1' });
    const published: BusMessage[] = [];
    const unsubscribe = app.runtime.ctx.bus.subscribe((m) => published.push(m));
    const payload = { items: [
      { ts: '2026-05-03T10:00:00Z', values: { temperature: -18, door: false } },
      { ts: '2026-05-03T10:01:00Z', values: { temperature: -17.5, door: true } },
    ] };
    const post = () => app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': created.body.apiKey }, payload });
    assert.equal((await post()).json().accepted, 2);
    assert.equal((await post()).json().duplicates, 2);
    // With the Redis bus messages come back asynchronously, in order: everything before a marker has arrived with it.
    const marked = new Promise<void>((resolve) => app.runtime.ctx.bus.subscribe((m) => m.type === 'test.marker' && resolve()));
    await app.runtime.ctx.bus.publish({ type: 'test.marker', orgId: owner.orgId, siteId: null, data: {} });
    await marked;
    unsubscribe();
    const announced = published.filter((m) => m.type === 'telemetry.ingested');
    assert.equal(announced.length, 1);
    assert.deepEqual(announced[0]!.data, {
      deviceId: created.body.device.id, items: 2, values: 4, latest: { ts: '2026-05-03T10:01:00.000Z', values: { temperature: -17.5, door: 1 } },
    });
  });

  it('concurrent, overlapping batches of many devices each get their own answer, every reading stored once', async () => {
    const fridges = await Promise.all(Array.from({ length: 4 }, (_, n) =>
      owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: `Fridge ${n}`, serial: `F-${n}` })));
    const post = (key: string, minutes: number[]) => app.runtime.app.inject({
      method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': key },
      payload: { items: minutes.map((m) => ({ ts: new Date(Date.UTC(2026, 4, 2, 8, m)).toISOString(), values: { temperature: m } })) },
    });
    // Per fridge: minutes 0–9, and at the same time an overlapping copy of minutes 5–14.
    const answers = await Promise.all(fridges.flatMap((f) => [
      post(f.body.apiKey, Array.from({ length: 10 }, (_, m) => m)),
      post(f.body.apiKey, Array.from({ length: 10 }, (_, m) => m + 5)),
    ]));
    for (let n = 0; n < fridges.length; n++) {
      const [a, b] = [answers[2 * n]!.json(), answers[2 * n + 1]!.json()];
      assert.equal(a.accepted + b.accepted, 15, 'each minute stored once per fridge');
      assert.equal(a.duplicates + b.duplicates, 5, 'the overlap is reported as duplicates');
      const stored = await app.runtime.ctx.pool.query('SELECT count(*)::int AS n FROM telemetry WHERE device_id = $1', [fridges[n]!.body.device.id]);
      assert.equal(stored.rows[0].n, 15);
    }
    await app.settleRollups();
    const rolled = await app.runtime.ctx.pool.query(
      'SELECT sum(count)::int AS n FROM telemetry_rollups_hourly WHERE device_id = ANY($1::uuid[])', [fridges.map((f) => f.body.device.id)]);
    assert.equal(rolled.rows[0].n, 60);
  });
});
