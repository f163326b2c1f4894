import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestProblem, nextDigestAt, sameDigest } from '../src/server/alerts/digests.js';

/** When a channel's next digest is due, in the organization's time zone. */
describe('digest schedule', () => {
  const at = (iso: string) => new Date(iso);

  it('every N minutes counts from local midnight; the day\'s last window ends at midnight', () => {
    assert.equal(nextDigestAt({ every: 'minutes', minutes: 60 }, at('2026-03-10T14:20:00Z'), 'UTC').toISOString(), '2026-03-10T15:00:00.000Z');
    assert.equal(nextDigestAt({ every: 'minutes', minutes: 15 }, at('2026-03-10T14:15:00Z'), 'UTC').toISOString(), '2026-03-10T14:30:00.000Z', 'a boundary itself is the start of the next window');
    // 420-minute windows (00:00, 07:00, 14:00, 21:00) do not divide a day: after 21:00 the next is midnight.
    assert.equal(nextDigestAt({ every: 'minutes', minutes: 420 }, at('2026-03-10T23:10:00Z'), 'UTC').toISOString(), '2026-03-11T00:00:00.000Z');
    // Kolkata is UTC+05:30: hourly on the local hour.
    assert.equal(nextDigestAt({ every: 'minutes', minutes: 60 }, at('2026-03-10T14:20:00Z'), 'Asia/Kolkata').toISOString(), '2026-03-10T14:30:00.000Z');
  });

  it('daily at HH:MM is today if still ahead, else tomorrow, in local time (across a DST change too)', () => {
    assert.equal(nextDigestAt({ every: 'day', at: '07:30' }, at('2026-03-10T05:00:00Z'), 'UTC').toISOString(), '2026-03-10T07:30:00.000Z');
    assert.equal(nextDigestAt({ every: 'day', at: '07:30' }, at('2026-03-10T07:30:00Z'), 'UTC').toISOString(), '2026-03-11T07:30:00.000Z');
    // Lisbon moves from UTC+0 to UTC+1 on 29 March 2026: 07:30 local is 06:30Z that day.
    assert.equal(nextDigestAt({ every: 'day', at: '07:30' }, at('2026-03-28T12:00:00Z'), 'Europe/Lisbon').toISOString(), '2026-03-29T06:30:00.000Z');
  });

  it('validates schedules and compares them by meaning', () => {
    assert.equal(digestProblem({ every: 'day', at: '07:30' }), null);
    assert.match(digestProblem({ every: 'day', at: '7:30' })!, /HH:MM/);
    assert.match(digestProblem({ every: 'minutes', minutes: 4 })!, /5 to 1440/);
    assert.ok(sameDigest({ every: 'day', at: '07:30' }, { at: '07:30', every: 'day' } as never));
    assert.ok(!sameDigest({ every: 'minutes', minutes: 60 }, null));
    assert.ok(sameDigest(null, null));
  });
});
