import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type SignedIn, type TestApp } from './helpers/app.js';
import { pdfText } from './helpers/pdf.js';
import {
  canonicalLocale, formatDate, formatDay, formatDayRange, formatDuration, formatNumber, formatPercent, formatSpeed, formatTime, formatTimeRuns, zoneLabel,
} from '../src/shared/format.js';

/** The one formatter of times, dates and numbers used by the console, public pages, PDFs and CSV text. */
const WINTER = '2026-01-15T18:05:00Z';
const SUMMER = '2026-07-15T18:05:00Z';

describe('shared formatter', () => {
  it('never writes a negative zero', () => {
    assert.equal(formatSpeed(-0, 'mph'), '0 mph');
    assert.equal(formatSpeed(-0.04, 'mph'), '0 mph');
    assert.equal(formatNumber(-0.001, 'en-US', 1, true), '0.0');
    assert.equal(formatPercent(-0.00001), '0.0%');
    assert.equal(formatSpeed(-3.25, 'kmh', 'en-US'), '-3.3 km/h', 'a real negative keeps its sign');
  });

  it('groups thousands and marks decimals in the locale\'s way', () => {
    assert.equal(formatNumber(1234567), '1,234,567');
    assert.equal(formatNumber(1234567, 'de-DE'), '1.234.567');
    assert.equal(formatNumber(1234.5, 'de-DE', 1), '1.234,5');
    assert.equal(formatSpeed(42.25, 'kmh', 'de-DE'), '42,3 km/h');
    assert.equal(formatPercent(0.1234, 'en-US'), '12.3%');
    assert.equal(formatPercent(0.1234, 'de-DE'), '12,3 %');
    assert.equal(formatNumber(null), '—');
  });

  it('names the zone of each time, with summer time', () => {
    assert.equal(formatTime(WINTER, 'America/Denver', 'en-US'), 'Jan 15, 2026, 11:05 AM MST');
    assert.equal(formatTime(SUMMER, 'America/Denver', 'en-US'), 'Jul 15, 2026, 12:05 PM MDT');
    assert.equal(formatTime(WINTER, 'America/Denver', 'en-US', { style: 'numeric' }), '01/15/2026, 11:05 AM MST');
    assert.equal(zoneLabel(WINTER, 'America/Denver'), 'MST');
    assert.equal(zoneLabel(SUMMER, 'America/Denver'), 'MDT');
    assert.equal(zoneLabel(WINTER, 'Europe/Berlin', 'de-DE'), 'MEZ');
    assert.equal(zoneLabel(SUMMER, 'Europe/Berlin', 'de-DE'), 'MESZ');
  });

  it('writes dates as the organization\'s locale does, in the site\'s zone', () => {
    // 18:05 UTC on 15 January is already the 16th in Tokyo.
    assert.equal(formatDate(WINTER, 'America/Denver', 'en-US', 'numeric'), '01/15/2026');
    assert.equal(formatDate(WINTER, 'Asia/Tokyo', 'en-US', 'numeric'), '01/16/2026');
    assert.equal(formatDate(WINTER, 'Europe/Berlin', 'de-DE', 'numeric'), '15.01.2026');
    assert.equal(formatDate(WINTER, 'Europe/London', 'en-GB', 'numeric'), '15/01/2026');
    assert.equal(formatDay('2026-03-08', 'en-US'), 'Mar 8, 2026');
  });

  it('cuts a time into date, clock and zone for a phone\'s table cell, the same text joined', () => {
    assert.deepEqual(formatTimeRuns(WINTER, 'America/Denver', 'en-US', { seconds: true }), {
      date: 'Jan 15, 2026', separator: ', ', clock: '11:05:00 AM', zoneSeparator: ' ', zone: 'MST',
    });
    // Japanese ends the day with 日 (it stays with the date); Chinese and Korean do not name the zone last.
    assert.equal(formatTimeRuns(WINTER, 'Asia/Tokyo', 'ja-JP').date, '2026年1月16日');
    for (const locale of ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'ja-JP', 'ko-KR', 'zh-CN', 'hu-HU', 'ar-EG']) {
      const runs = formatTimeRuns(SUMMER, 'Europe/Berlin', locale, { seconds: true });
      assert.equal(Object.values(runs).join(''), formatTime(SUMMER, 'Europe/Berlin', locale, { seconds: true }), locale);
    }
  });

  it('writes a report\'s period as the locale writes a range of days, with plain spaces', () => {
    assert.equal(formatDayRange('2026-11-01', '2026-11-30', 'en-US'), 'Nov 1 – 30, 2026');
    assert.equal(formatDayRange('2026-11-01', '2026-11-30', 'en-GB'), '1 – 30 Nov 2026');
    assert.equal(formatDayRange('2026-11-01', '2026-12-03', 'en-GB'), '1 Nov – 3 Dec 2026');
    assert.equal(formatDayRange('2026-12-28', '2027-01-03', 'en-US'), 'Dec 28, 2026 – Jan 3, 2027');
    assert.equal(formatDayRange('2026-11-01', '2026-11-01', 'de-DE'), '1. Nov. 2026');
  });

  it('keeps the clock right across a change to summer time', () => {
    // 2026-03-08 in Denver: 02:00 MST becomes 03:00 MDT; one real hour apart.
    assert.equal(formatTime('2026-03-08T08:30:00Z', 'America/Denver', 'en-US'), 'Mar 8, 2026, 1:30 AM MST');
    assert.equal(formatTime('2026-03-08T09:30:00Z', 'America/Denver', 'en-US'), 'Mar 8, 2026, 3:30 AM MDT');
  });

  it('writes durations without "60 min"', () => {
    assert.equal(formatDuration(42), '42 s');
    assert.equal(formatDuration(725), '12 min');
    assert.equal(formatDuration(7199), '2 h 0 min');
    assert.equal(formatDuration(3600 * 1500, 'en-US'), '1,500 h 0 min');
  });

  it('accepts a locale only as a supported BCP 47 tag, in canonical form', () => {
    assert.equal(canonicalLocale('en-us'), 'en-US');
    assert.equal(canonicalLocale('de-DE'), 'de-DE');
    assert.equal(canonicalLocale('not a locale'), null);
    assert.equal(canonicalLocale('xx-YY'), null);
  });
});

describe('the organization\'s locale in the API and in reports', () => {
  let app: TestApp;
  let owner: SignedIn;
  let radar: string;

  before(async () => {
    app = await startTestApp();
    owner = await app.owner();
    const site = (await owner.client.post('/api/v1/sites', { name: 'Main Street', timezone: 'America/Denver' })).body.id;
    const created = await owner.client.post('/api/v1/devices', { kind: 'speed_radar', name: 'Main St radar', serial: 'FMT-1', speedLimit: 25, siteId: site });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    radar = created.body.device.id;
    // 1,200 vehicles on 5 October 2026 from 06:00 UTC (midnight in Denver, summer time).
    for (let batch = 0; batch < 2; batch++) {
      const events = Array.from({ length: 600 }, (_, j) => {
        const i = batch * 600 + j;
        return { client_ref: `f${i}`, ts: new Date(Date.UTC(2026, 9, 5, 6) + i * 60_000).toISOString(), kind: 'speed', speed: 20 + (i % 15), speed_limit: 25 };
      });
      const sent = await app.runtime.app.inject({ method: 'POST', url: '/api/v1/ingest/events', headers: { 'x-api-key': created.body.apiKey }, payload: { events } });
      assert.equal(sent.statusCode, 200, sent.body);
    }
    await app.settleRollups();
  });
  after(async () => app.close());

  async function speedStudyText(): Promise<string> {
    const created = await owner.client.post('/api/v1/reports', { kind: 'speed_study', deviceId: radar, from: '2026-10-05', to: '2026-10-05' });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    await app.runtime.services.reportRunner.runQueued();
    const pdf = await app.runtime.app.inject({ method: 'GET', url: `/api/v1/reports/${created.body.id}/files/pdf`, headers: { cookie: owner.client.cookie! } });
    assert.equal(pdf.statusCode, 200);
    return pdfText(pdf.rawPayload);
  }

  it('defaults to en-US, names it in /auth/me, canonicalises and refuses what Intl does not know', async () => {
    assert.equal((await owner.client.get('/api/v1/organization')).body.locale, 'en-US');
    const me = (await owner.client.get('/api/v1/auth/me')).body;
    assert.equal(me.organization.locale, 'en-US');
    const bad = await owner.client.patch('/api/v1/organization', { locale: 'not a locale' });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /locale/);
    const unknown = await owner.client.patch('/api/v1/organization', { locale: 'xx-YY' });
    assert.equal(unknown.status, 400);
    const saved = await owner.client.patch('/api/v1/organization', { locale: 'en-gb' });
    assert.equal(saved.status, 200);
    assert.equal(saved.body.locale, 'en-GB');
    assert.equal((await owner.client.get('/api/v1/auth/me')).body.organization.locale, 'en-GB');
    assert.equal((await owner.client.patch('/api/v1/organization', { locale: 'en-US' })).status, 200);
  });

  it('writes a US organization\'s speed study with US dates, grouped counts and the site\'s zone', async () => {
    const text = await speedStudyText();
    // The period and the times of the top speeds: month first, 12-hour clock, the site's zone named (summer time).
    assert.match(text, /10\/05\/2026, 12:00 AM MDT/);
    assert.match(text, /\d{1,2}:\d{2} (AM|PM) MDT/);
    assert.ok(text.includes('America/Denver'));
    assert.ok(text.includes('1,200'), 'the vehicle count is grouped');
    assert.doesNotMatch(text, /GMT-6|05\/10\/2026/, 'no UTC offset for a zone the locale names, no day-first date');
  });

  it('follows a changed locale: German dates and numbers, the same zone', async () => {
    assert.equal((await owner.client.patch('/api/v1/organization', { locale: 'de-DE' })).status, 200);
    const text = await speedStudyText();
    assert.match(text, /05\.10\.2026, 00:00 GMT-6/);
    assert.ok(text.includes('1.200'), 'the vehicle count is grouped the German way');
    assert.equal((await owner.client.patch('/api/v1/organization', { locale: 'en-US' })).status, 200);
  });
});
