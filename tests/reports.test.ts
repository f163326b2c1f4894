import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BusMessage } from '../src/server/core/bus.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { pdfText } from './helpers/pdf.js';
import { topSpeeders } from '../src/server/reports/store.js';

/**
 * Reports: speed studies and compliance records generated in the background, kept, downloaded again, and
 * seen only by the members who may see their subject.
 */
const ZONE = 'Europe/London';

function csvRows(text: string): string[][] {
  return text.trim().split('\n').map((line) => line.split(','));
}

describe('reports', () => {
  let app: TestApp;
  let owner: SignedIn;
  let siteA: string;
  let siteB: string;
  let radar: string;
  const speeds: number[] = [];
  const progress: BusMessage[] = [];

  const run = () => app.runtime.services.reportRunner.runQueued();
  async function generate(client: SignedIn['client'], body: Record<string, unknown>) {
    const created = await client.post('/api/v1/reports', body);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.status, 'queued');
    await run();
    const report = await client.get(`/api/v1/reports/${created.body.id}`);
    assert.equal(report.status, 200);
    return report.body;
  }
  const download = async (client: SignedIn['client'], id: string, file: string) => {
    return app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${id}/files/${file}`, headers: client.cookie ? { cookie: client.cookie } : {} });
  };

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    app.runtime.ctx.bus.subscribe((message) => {
      if (message.type === 'report.progress') progress.push(message);
    });
    siteA = (await owner.client.post('/api/v1/sites', { name: 'School Road', timezone: ZONE, lat: 51.5, lon: -0.12 })).body.id;
    siteB = (await owner.client.post('/api/v1/sites', { name: 'Harbour', timezone: ZONE })).body.id;
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Radar 1', serial: 'RADAR-1', speedLimit: 30, siteId: siteA, lat: 51.501234, lon: -0.123456 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    radar = created.body.device.id;
    const events = [];
    for (let i = 0; i < 600; i++) {
      const speed = 20 + ((i * 7) % 23) + (i % 10) / 10;
      speeds.push(speed);
      events.push({ client_ref: `e${i}`, ts: new Date(Date.UTC(2026, 9, 5, 6) + i * 97_000).toISOString(), kind: 'speed', speed, speed_limit: 30 });
    }
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
    assert.equal(sent.statusCode, 200, sent.body);
    await app.settleRollups();
    await app.runtime.services.traffic.rebuildRollups(radar, new Date(Date.UTC(2026, 9, 1)), new Date(Date.UTC(2026, 9, 10)));
  });
  after(async () => app.close());

  it('generates a speed study whose PDF states the same 85th percentile as the statistics API, and whose CSV holds every vehicle', async () => {
    progress.length = 0;
    const report = await generate(owner.client, { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-09', notes: 'Calibrated 2026-09-30 with tuning forks' });
    assert.equal(report.status, 'done', report.error);
    assert.equal(report.progress, 100);
    assert.deepEqual(report.files, { pdf: true, csv: true, events: true });
    // Progress went out on the bus, rising to 100.
    const mine = progress.filter((m) => m.data.id === report.id).map((m) => m.data.progress as number);
    assert.ok(mine.length >= 3);
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    assert.equal(mine.at(-1), 100);

    const stats = (await owner.client.get(`/api/v1/traffic/statistics?deviceId=${radar}&from=2026-10-01&to=2026-10-09`)).body;
    const pdf = await download(owner.client, report.id, 'pdf');
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    // The title reads as the organization's locale (en-US) writes a period; the file names keep ISO days, which sort.
    assert.match(report.title, /^Speed study · .+ · Oct 1 – 9, 2026$/);
    assert.match(String(pdf.headers['content-disposition']), /^attachment; filename="Speed-study-[\w.-]+-2026-10-01-to-2026-10-09\.pdf"$/);
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const text = pdfText(pdf.rawPayload);
    assert.ok(text.includes(`${stats.summary.p85.toFixed(1)} mph`), `p85 ${stats.summary.p85} not in the PDF`);
    assert.ok(text.includes('51.501234, -0.123456'));
    assert.ok(text.includes('Calibrated 2026-09-30 with tuning forks'));
    assert.ok(text.includes('Methodology'));

    const figuresFile = await download(owner.client, report.id, 'csv');
    assert.match(String(figuresFile.headers['content-disposition']), /filename="Speed-study-[\w.-]+-2026-10-01-to-2026-10-09-figures\.csv"$/);
    const figures = csvRows(figuresFile.body);
    assert.equal(Number(figures.find((r) => r[0] === 'summary' && r[1] === 'p85')![2]), stats.summary.p85);
    assert.equal(Number(figures.find((r) => r[0] === 'summary' && r[1] === 'count')![2]), 600);

    const events = csvRows((await download(owner.client, report.id, 'events')).body);
    assert.deepEqual(events[0], ['event_id', 'ts_utc', 'device_id', 'device', 'kind', 'speed', 'speed_limit', 'over_limit']);
    const recorded = events.slice(1).map((r) => Number(r[5]));
    assert.equal(recorded.length, speeds.length);
    assert.deepEqual(recorded.map((s) => s.toFixed(1)), speeds.map((s) => s.toFixed(1)));
    assert.equal(events.slice(1).filter((r) => r[7] === 'yes').length, speeds.filter((s) => Number(s.toFixed(1)) > 30).length);
  });

  it('finds the fastest vehicles of any range as a scan of every event would, ties by time', async () => {
    const pool = app.runtime.ctx.pool;
    const start = Date.UTC(2026, 9, 5, 6);
    const ranges = [[start, start + 18 * 3_600_000], [start + 73 * 60_000, start + 9.5 * 3_600_000], [start + 3.5 * 3_600_000, start + 3.8 * 3_600_000]] as const;
    for (const [from, to] of ranges) {
      for (const limit of [1, 10, 50]) {
        const found = await topSpeeders(app.runtime.ctx.db, [radar], new Date(from), new Date(to), limit);
        const scanned = (await pool.query('SELECT id FROM events WHERE device_id = $1 AND ts >= $2 AND ts < $3 AND speed IS NOT NULL ORDER BY speed DESC, ts LIMIT $4',
          [radar, new Date(from), new Date(to), limit])).rows;
        assert.ok(scanned.length > 0);
        assert.deepEqual(found.map((e) => String(e.id)), scanned.map((r) => String(r.id)), `${new Date(from).toISOString()}–${new Date(to).toISOString()}, top ${limit}`);
      }
    }
  });

  it('gives a report that says so for a range without vehicles', async () => {
    const report = await generate(owner.client, { kind: 'speed_study', deviceId: radar, from: '2026-08-01', to: '2026-08-02' });
    assert.equal(report.status, 'done', report.error);
    const text = pdfText((await download(owner.client, report.id, 'pdf')).rawPayload);
    assert.ok(text.includes('No speeds were recorded'), text.slice(0, 500));
    const events = csvRows((await download(owner.client, report.id, 'events')).body);
    assert.equal(events.length, 1);
  });

  it('answers 400 with reasons for bad parameters, and 403 to viewers', async () => {
    const missing = await owner.client.post('/api/v1/reports', { kind: 'speed_study' });
    assert.equal(missing.status, 400);
    const fields = missing.body.error.details.map((d: { field: string }) => d.field);
    assert.ok(fields.includes('deviceId') && fields.includes('from') && fields.includes('to'), JSON.stringify(missing.body));
    const reversed = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-09', to: '2026-10-01' });
    assert.equal(reversed.status, 400);
    assert.equal(reversed.body.error.details[0].field, 'from');
    const wrongKind = await owner.client.post('/api/v1/reports', { kind: 'compliance', deviceId: radar, from: '2026-10-01', to: '2026-10-02' });
    assert.equal(wrongKind.status, 400);
    assert.match(wrongKind.body.error.details[0].message, /refrigeration/);
    const both = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, siteId: siteA, from: '2026-10-01', to: '2026-10-02' });
    assert.equal(both.status, 400);
    const badDate = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: 'yesterday!', to: '2026-10-02' });
    assert.equal(badDate.status, 400);
    const viewer = await app.member(owner, 'viewer');
    assert.equal((await viewer.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-02' })).status, 403);
  });

  it('keeps reports to their organization and a restricted member to their sites', async () => {
    const report = await generate(owner.client, { kind: 'speed_study', siteId: siteA, from: '2026-10-01', to: '2026-10-09' });
    assert.equal(report.status, 'done', report.error);
    const stranger = await app.owner('Other Org');
    assert.equal((await stranger.client.get(`/api/v1/reports/${report.id}`)).status, 404);
    assert.equal((await download(stranger.client, report.id, 'pdf')).statusCode, 404);
    assert.equal((await stranger.client.delete(`/api/v1/reports/${report.id}`)).status, 404);
    assert.equal((await stranger.client.get('/api/v1/reports')).body.items.length, 0);
    const foreign = await stranger.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-02' });
    assert.equal(foreign.status, 400);

    const harbourOnly = await app.member(owner, 'operator', [siteB]);
    assert.equal((await harbourOnly.client.get(`/api/v1/reports/${report.id}`)).status, 404);
    assert.equal((await download(harbourOnly.client, report.id, 'csv')).statusCode, 404);
    assert.equal((await harbourOnly.client.get('/api/v1/reports')).body.items.length, 0);
    assert.equal((await harbourOnly.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-02' })).status, 400);

    const schoolOnly = await app.member(owner, 'viewer', [siteA]);
    const listed = await schoolOnly.client.get('/api/v1/reports?limit=1');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items.length, 1);
    assert.ok(listed.body.nextCursor);
    assert.equal((await download(schoolOnly.client, report.id, 'pdf')).statusCode, 200);
    assert.equal((await schoolOnly.client.delete(`/api/v1/reports/${report.id}`)).status, 403);

    assert.equal((await owner.client.delete(`/api/v1/reports/${report.id}`)).status, 204);
    assert.equal((await owner.client.get(`/api/v1/reports/${report.id}`)).status, 404);
    const audit = await owner.client.get('/api/v1/audit?action=report.delete');
    assert.ok(audit.body.items.some((e: { resourceId: string }) => e.resourceId === report.id), JSON.stringify(audit.body).slice(0, 300));
  });

  it('lists each temperature excursion of a refrigeration unit with its start, duration and peak, its alerts and maintenance', async () => {
    const rule = await owner.client.post('/api/v1/alert-rules', {
      name: 'Walk-in too warm', scope: 'organization', condition: 'metric', metric: 'temperature', operator: 'gt', threshold: 5, durationSeconds: 300, severity: 'critical',
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const created = await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: 'Walk-in', serial: 'W-1', siteId: siteB, settings: { safeRange: { min: 0, max: 5 } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const unit = created.body.device.id;
    const items = [];
    // Every 5 minutes from 08:00 to 12:00 at 3 °C, except 09:10–09:30 above the range (peak 9.5 at 09:20).
    const outside: Record<string, number> = { '09:10': 7, '09:15': 8, '09:20': 9.5, '09:25': 6.2 };
    for (let m = 8 * 60; m <= 12 * 60; m += 5) {
      const hhmm = `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      items.push({ ts: `2026-06-01T${hhmm}:00Z`, values: { temperature: outside[hhmm] ?? 3 } });
    }
    const send = async (batch: object[]) => {
      const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/telemetry', headers: { 'x-api-key': created.body.apiKey }, payload: { items: batch } });
      assert.equal(sent.statusCode, 200, sent.body);
    };
    // The alert opens while the unit is warm and is acknowledged then; the later readings resolve it.
    const warmUntil = items.findIndex((i) => i.ts === '2026-06-01T09:25:00Z') + 1;
    await send(items.slice(0, warmUntil));
    const alerts = (await owner.client.get(`/api/v1/devices/${unit}/alerts`)).body.items;
    assert.equal(alerts.length, 1);
    assert.equal((await owner.client.post(`/api/v1/alerts/${alerts[0].id}/acknowledge`, { comment: 'door left open' })).status, 200);
    await send(items.slice(warmUntil));
    for (const performedAt of ['2026-06-01T14:00:00Z', '2026-05-20T09:00:00Z']) {
      const visit = await owner.client.post(`/api/v1/devices/${unit}/maintenance`, { type: 'corrective', performedAt, performedBy: 'Ana Técnica', description: `Replaced door gasket ${performedAt}` });
      assert.equal(visit.status, 201, JSON.stringify(visit.body));
    }

    const report = await generate(owner.client, { kind: 'compliance', deviceId: unit, from: '2026-06-01', to: '2026-06-01' });
    assert.equal(report.status, 'done', report.error);
    assert.equal(report.files.events, false);
    const rows = csvRows((await download(owner.client, report.id, 'csv')).body);
    const excursions = rows.filter((r) => r[2] === 'excursion');
    assert.equal(excursions.length, 1);
    // British Summer Time: the local day 1 June starts at 23:00Z the day before.
    assert.equal(excursions[0]![3], '2026-06-01T09:10:00.000Z');
    assert.equal(Number(excursions[0]![8]), 20 * 60);
    assert.equal(Number(excursions[0]![9]), 9.5);
    const day = rows.find((r) => r[2] === 'day' && r[3] === '2026-06-01')!;
    assert.equal(Number(day[4]), 3);
    assert.equal(Number(day[5]), 9.5);
    assert.equal(Number(day[7]), 20 * 60);
    const alertRows = rows.filter((r) => r[2] === 'alert');
    assert.equal(alertRows.length, 1);
    assert.match(alertRows[0]!.join(','), /Walk-in too warm; acknowledged by \S+/);
    const maintenance = rows.filter((r) => r[2] === 'maintenance');
    assert.equal(maintenance.length, 1);
    assert.match(maintenance[0]!.join(','), /Replaced door gasket 2026-06-01T14:00:00Z \(Ana Técnica\)/);
    const text = pdfText((await download(owner.client, report.id, 'pdf')).rawPayload);
    assert.ok(text.includes('20 min'));
    assert.ok(text.includes('Walk-in too warm'));
    assert.ok(text.includes('9.5 '));
  });
});
