import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { invalidFields, notFound } from '../core/http/errors.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { SitesService } from '../sites/service.js';
import { describeChange, mannWhitney, meanChange, percentileChange } from './comparison.js';
import { localDates, resolveRange, startOfLocalDay, type Range } from './range.js';
import {
  addTo, type Bins, convertBins, convertExcess, convertMoments, distribution, EMPTY_MOMENTS, mergeMoments, type Moments,
  movingAverage, percentile, speedFigures, speedingFigures, unitFactor, type Units,
} from './statistics.js';
import * as store from './store.js';

export interface SubjectQuery {
  deviceId?: string;
  siteId?: string;
  units?: Units;
  weekdaysOnly?: boolean;
}

export interface StatisticsQuery extends SubjectQuery {
  from?: string;
  to?: string;
}

export interface ComparisonQuery extends SubjectQuery {
  beforeFrom: string;
  beforeTo: string;
  afterFrom: string;
  afterTo: string;
}

interface Subject {
  kind: 'device' | 'site' | 'organization';
  id: string;
  name: string;
  timezone: string;
  units: Units;
  devices: store.SubjectDevice[];
}

/** Rows of one unit system each, merged into display units. */
function mergeBins(rows: { units: Units; bin: number; count: number }[], units: Units): Bins {
  const bins: Bins = new Map();
  const byUnits = new Map<Units, Bins>();
  for (const row of rows) {
    if (!byUnits.has(row.units)) byUnits.set(row.units, new Map());
    addTo(byUnits.get(row.units)!, row.bin, row.count);
  }
  for (const [from, raw] of byUnits) for (const [bin, count] of convertBins(raw, unitFactor(from, units))) addTo(bins, bin, count);
  return bins;
}

function mergeExcess(rows: { units: Units; excess: number; count: number }[], units: Units): Bins {
  const excess: Bins = new Map();
  const byUnits = new Map<Units, Bins>();
  for (const row of rows) {
    if (!byUnits.has(row.units)) byUnits.set(row.units, new Map());
    addTo(byUnits.get(row.units)!, row.excess, row.count);
  }
  for (const [from, raw] of byUnits) for (const [k, count] of convertExcess(raw, unitFactor(from, units))) addTo(excess, k, count);
  return excess;
}

function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** Hours in a local calendar day (23 or 25 on a daylight-saving change). */
function hoursInLocalDay(date: string, zone: string): number {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return Math.round((startOfLocalDay(next, zone).getTime() - startOfLocalDay(date, zone).getTime()) / 3_600_000);
}

export class TrafficService {
  constructor(private readonly ctx: AppContext, private readonly organizations: OrganizationsService, private readonly sites: SitesService) {}

  /** The devices a request covers, its time zone for calendar dates, and the units figures are given in. */
  private async subject(scope: Scope, query: SubjectQuery): Promise<Subject> {
    if (query.deviceId && query.siteId) throw invalidFields([{ field: 'siteId', message: 'give a device or a site, not both' }]);
    const org = await this.organizations.get(scope.orgId);
    if (query.deviceId) {
      const devices = await store.subjectDevices(this.ctx.db, scope, { deviceId: query.deviceId });
      const device = devices[0];
      if (!device) throw notFound('device');
      return { kind: 'device', id: device.id, name: device.name, timezone: device.timezone, units: query.units ?? device.units, devices };
    }
    if (query.siteId) {
      const site = await this.sites.get(scope, query.siteId);
      const devices = await store.subjectDevices(this.ctx.db, scope, { siteId: site.id });
      return { kind: 'site', id: site.id, name: site.name, timezone: site.timezone, units: query.units ?? org.units, devices };
    }
    const devices = await store.subjectDevices(this.ctx.db, scope, {});
    return { kind: 'organization', id: org.id, name: org.name, timezone: org.timezone, units: query.units ?? org.units, devices };
  }

  /** Speeds, their histogram and excess over the limit, in display units. */
  private async core(q: store.RangeQuery, units: Units) {
    const [momentRows, binRows, excessRows] = await Promise.all([store.speedMoments(this.ctx.db, q), store.speedBins(this.ctx.db, q), store.excessBins(this.ctx.db, q)]);
    const moments = momentRows.reduce<Moments>((all, row) => mergeMoments(all, convertMoments(
      { count: row.count, sum: row.sum, sumSquares: row.sum_squares, min: row.min, max: row.max }, unitFactor(row.units, units),
    )), EMPTY_MOMENTS);
    const limits = new Map<number, number>();
    for (const row of excessRows) {
      const limit = Math.round(row.speed_limit * unitFactor(row.units, units) * 10) / 10;
      limits.set(limit, (limits.get(limit) ?? 0) + row.count);
    }
    return {
      moments,
      bins: mergeBins(binRows, units),
      excess: mergeExcess(excessRows, units),
      limits: [...limits].sort((a, b) => a[0] - b[0]).map(([limit, count]) => ({ limit, count })),
      converted: momentRows.some((row) => row.units !== units),
    };
  }

  async statistics(scope: Scope, query: StatisticsQuery) {
    const subject = await this.subject(scope, query);
    const range = resolveRange(query, subject.timezone);
    const weekdaysOnly = query.weekdaysOnly ?? false;
    const q: store.RangeQuery = { devices: subject.devices, from: range.from, to: range.to, weekdaysOnly };
    const [core, week, hourBins, days] = await Promise.all([
      this.core(q, subject.units), store.hourOfWeek(this.ctx.db, q), store.hourOfDayBins(this.ctx.db, q), store.daily(this.ctx.db, q),
    ]);
    const units = subject.units;
    const speeding = speedingFigures(core.excess, core.moments.count);
    const empty = core.moments.count === 0;
    return {
      subject: { kind: subject.kind, id: subject.id, name: subject.name, devices: subject.devices.length, timezone: subject.timezone },
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      weekdaysOnly,
      units,
      converted: core.converted,
      empty,
      message: empty ? `No speeds were recorded for ${subject.name} in this range${weekdaysOnly ? ' on weekdays' : ''}.` : null,
      summary: speedFigures(core.bins, core.moments, units),
      speeding: { ...speeding, limits: core.limits },
      ...distribution(core.bins),
      ...this.patterns(week, hourBins, units),
      ...this.trend(days, range, subject, weekdaysOnly, core.moments.count),
    };
  }

  /** Hour-of-day × weekday heatmaps, the hourly profile and its morning and afternoon peaks. */
  private patterns(week: Awaited<ReturnType<typeof store.hourOfWeek>>, hourBins: Awaited<ReturnType<typeof store.hourOfDayBins>>, units: Units) {
    const volume = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
    const judged = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
    const speedingCount = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
    const hours = Array.from({ length: 24 }, () => ({ count: 0, sum: 0, judged: 0, speeding: 0 }));
    for (const row of week) {
      volume[row.dow - 1]![row.hour]! += row.count;
      judged[row.dow - 1]![row.hour]! += row.judged;
      speedingCount[row.dow - 1]![row.hour]! += row.speeding;
      const hour = hours[row.hour]!;
      hour.count += row.count;
      hour.sum += row.sum * unitFactor(row.units, units);
      hour.judged += row.judged;
      hour.speeding += row.speeding;
    }
    const hourly = hours.map((h, hour) => ({
      hour,
      count: h.count,
      mean: h.count ? h.sum / h.count : null,
      p85: percentile(mergeBins(hourBins.filter((r) => r.hour === hour), units), 0.85),
      speedingShare: share(h.speeding, h.judged),
    }));
    const peak = (from: number, to: number) => {
      const best = hourly.slice(from, to).reduce((a, b) => (b.count > a.count ? b : a));
      return best.count > 0 ? { hour: best.hour, count: best.count } : null;
    };
    return {
      heatmap: { volume, speedingShare: judged.map((row, d) => row.map((n, h) => share(speedingCount[d]![h]!, n))) },
      hourly,
      peaks: { am: peak(0, 12), pm: peak(12, 24) },
    };
  }

  /** The daily series over every local date of the range, its 7-day moving averages and the 24-hour-weekday check. */
  private trend(rows: Awaited<ReturnType<typeof store.daily>>, range: Range, subject: Subject, weekdaysOnly: boolean, sampleSize: number) {
    const byDate = new Map<string, { count: number; sum: number; hours: number; judged: number; speeding: number }>();
    for (const row of rows) {
      const day = byDate.get(row.date) ?? { count: 0, sum: 0, hours: 0, judged: 0, speeding: 0 };
      day.count += row.count;
      day.sum += row.sum * unitFactor(row.units, subject.units);
      day.hours = Math.max(day.hours, row.hours);
      day.judged += row.judged;
      day.speeding += row.speeding;
      byDate.set(row.date, day);
    }
    const dates = localDates(range, subject.timezone);
    const series = dates.map((date) => {
      const day = byDate.get(date);
      const weekday = new Date(`${date}T00:00:00Z`).getUTCDay() % 6 !== 0;
      return {
        date,
        weekday,
        count: day?.count ?? 0,
        mean: day && day.count ? day.sum / day.count : null,
        speedingShare: day ? share(day.speeding, day.judged) : null,
        fullDay: !!day && day.hours >= hoursInLocalDay(date, subject.timezone),
      };
    });
    const countAverage = movingAverage(series.map((d) => (weekdaysOnly && !d.weekday ? null : d.count)), 7);
    const meanAverage = movingAverage(series.map((d) => d.mean), 7);
    const daily = series
      .map((d, i) => ({ ...d, countAverage7: countAverage[i]!, meanAverage7: meanAverage[i]! }))
      .filter((d) => !weekdaysOnly || d.weekday);
    const fullWeekdays = daily.filter((d) => d.weekday && d.fullDay).length;
    return { daily, study: { sampleSize, fullWeekdays, covers24HourWeekday: fullWeekdays > 0 } };
  }

  /** Two periods of the same subject: each figure before and after, and whether the mean and 85th percentile really changed. */
  async compare(scope: Scope, query: ComparisonQuery) {
    const subject = await this.subject(scope, query);
    const before = resolveRange({ from: query.beforeFrom, to: query.beforeTo }, subject.timezone);
    const after = resolveRange({ from: query.afterFrom, to: query.afterTo }, subject.timezone);
    const weekdaysOnly = query.weekdaysOnly ?? false;
    const units = subject.units;
    const [a, b] = await Promise.all([before, after].map((range) => this.core({ devices: subject.devices, ...range, weekdaysOnly }, units)));
    const figuresA = speedFigures(a!.bins, a!.moments, units);
    const figuresB = speedFigures(b!.bins, b!.moments, units);
    const speedingA = speedingFigures(a!.excess, a!.moments.count);
    const speedingB = speedingFigures(b!.excess, b!.moments.count);
    const figure = (name: string, x: number | null, y: number | null) => ({ figure: name, before: x, after: y, change: x === null || y === null ? null : y - x });
    const meanTest = meanChange(a!.moments, b!.moments);
    const p85Test = percentileChange(a!.bins, b!.bins, 0.85);
    const unitLabel = units === 'mph' ? 'mph' : 'km/h';
    return {
      subject: { kind: subject.kind, id: subject.id, name: subject.name, devices: subject.devices.length, timezone: subject.timezone },
      units,
      weekdaysOnly,
      before: { from: before.from.toISOString(), to: before.to.toISOString(), count: a!.moments.count },
      after: { from: after.from.toISOString(), to: after.to.toISOString(), count: b!.moments.count },
      figures: [
        figure('count', figuresA.count, figuresB.count),
        figure('mean', figuresA.mean, figuresB.mean),
        figure('median', figuresA.median, figuresB.median),
        figure('p15', figuresA.p15, figuresB.p15),
        figure('p85', figuresA.p85, figuresB.p85),
        figure('p95', figuresA.p95, figuresB.p95),
        figure('stddev', figuresA.stddev, figuresB.stddev),
        figure('min', figuresA.min, figuresB.min),
        figure('max', figuresA.max, figuresB.max),
        figure('paceShare', figuresA.pace?.share ?? null, figuresB.pace?.share ?? null),
        figure('speedingShare', speedingA.speedingShare, speedingB.speedingShare),
      ],
      tests: {
        mean: meanTest,
        p85: p85Test,
        distribution: mannWhitney(a!.bins, b!.bins),
      },
      conclusions: [
        describeChange('85th-percentile speed', figuresA.p85, figuresB.p85, p85Test, unitLabel),
        describeChange('mean speed', figuresA.mean, figuresB.mean, meanTest, unitLabel),
      ],
    };
  }

  /** Rebuilds a device's excess-over-limit rollup from its events (see store.rebuildSpeedExcess). */
  rebuildSpeedExcess(deviceId: string, from: Date, to: Date): Promise<number> {
    return store.rebuildSpeedExcess(this.ctx.db, deviceId, from, to);
  }
}
