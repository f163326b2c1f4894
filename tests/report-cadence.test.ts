import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestDueRun, nextRun, periodOf, type Cadence } from '../src/server/reports/cadence.js';

/** When report schedules run and what each run covers, across month ends and daylight-saving changes. */
const weekly: Cadence = { cadence: 'weekly', dayOfWeek: 1, dayOfMonth: null, timeOfDay: '06:00', timezone: 'Europe/London' };
const monthEnd: Cadence = { cadence: 'monthly', dayOfWeek: null, dayOfMonth: 31, timeOfDay: '07:00', timezone: 'Europe/London' };
const iso = (d: Date) => d.toISOString();

describe('report schedule cadence', () => {
  it('runs weekly on the weekday at the local time, strictly after the given instant', () => {
    assert.equal(iso(nextRun(weekly, new Date('2026-10-11T12:00:00Z'))), '2026-10-12T05:00:00.000Z', 'Monday 06:00 BST');
    assert.equal(iso(nextRun(weekly, new Date('2026-10-12T05:00:00Z'))), '2026-10-19T05:00:00.000Z', 'not the same run again');
    assert.equal(iso(nextRun(weekly, new Date('2026-10-12T04:59:00Z'))), '2026-10-12T05:00:00.000Z');
  });

  it('keeps the local time across the autumn change, and the week it covers is 169 hours long', () => {
    const run = nextRun(weekly, new Date('2026-10-19T05:00:00Z'));
    assert.equal(iso(run), '2026-10-26T06:00:00.000Z', 'Monday 06:00 GMT after the clocks went back on the 25th');
    const period = periodOf(weekly, run);
    assert.deepEqual([iso(period.from), iso(period.to)], ['2026-10-18T23:00:00.000Z', '2026-10-26T00:00:00.000Z']);
    assert.equal((period.to.getTime() - period.from.getTime()) / 3_600_000, 169);
  });

  it('runs a time skipped by the spring change at the first valid time after it', () => {
    const sunday: Cadence = { cadence: 'weekly', dayOfWeek: 7, dayOfMonth: null, timeOfDay: '02:30', timezone: 'America/New_York' };
    assert.equal(iso(nextRun(sunday, new Date('2026-03-07T12:00:00Z'))), '2026-03-08T07:30:00.000Z', '03:30 EDT');
  });

  it('runs "day 31" on the last day of every month and covers the previous calendar month', () => {
    assert.equal(iso(nextRun(monthEnd, new Date('2026-11-01T00:00:00Z'))), '2026-11-30T07:00:00.000Z');
    assert.equal(iso(nextRun(monthEnd, new Date('2027-02-01T00:00:00Z'))), '2027-02-28T07:00:00.000Z');
    assert.equal(iso(nextRun(monthEnd, new Date('2026-10-31T06:00:00Z'))), '2026-10-31T07:00:00.000Z', 'GMT again on the 31st');
    const period = periodOf(monthEnd, new Date('2026-11-30T07:00:00Z'));
    assert.deepEqual([iso(period.from), iso(period.to)], ['2026-09-30T23:00:00.000Z', '2026-11-01T00:00:00.000Z'], 'October, local time');
  });

  it('collapses missed runs into the latest one', () => {
    assert.equal(iso(latestDueRun(weekly, new Date('2026-10-05T05:00:00Z'), new Date('2026-10-20T00:00:00Z'))), '2026-10-19T05:00:00.000Z');
    assert.equal(iso(latestDueRun(weekly, new Date('2026-10-05T05:00:00Z'), new Date('2026-10-05T05:00:00Z'))), '2026-10-05T05:00:00.000Z');
  });
});
