import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalLocale, formatDate, formatDay, formatDuration, formatNumber, formatPercent, formatSpeed, formatTime, zoneLabel,
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
