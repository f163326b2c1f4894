import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { invalidFields, notFound } from '../core/http/errors.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { RollupsService } from '../rollups/service.js';
import type { SitesService } from '../sites/service.js';
import { coreOf, patternsOf, trendOf, type Rollups } from './assemble.js';
import { describeChange, mannWhitney, meanChange, percentileChange } from './comparison.js';
import { resolveRange } from './range.js';
import type { TrafficComparison, TrafficStatistics, Units } from '../../shared/traffic.js';
import { distribution, speedFigures, speedingFigures } from './statistics.js';
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
  /** The 85th percentile of each local hour of day: reads every hourly histogram row of the range, so it is asked for. */
  hourlyPercentiles?: boolean;
}

export interface ComparisonQuery extends SubjectQuery {
  beforeFrom: string;
  beforeTo: string;
  afterFrom: string;
  afterTo: string;
}

/** Devices looked up per batch of the re-key job, and how long one run of it may go on. */
const REKEY_DEVICES = 20;
const REKEY_SECONDS = 20;

interface Subject {
  kind: 'device' | 'site' | 'organization';
  id: string;
  name: string;
  timezone: string;
  units: Units;
  devices: store.SubjectDevice[];
}

export class TrafficService {
  constructor(
    private readonly ctx: AppContext,
    private readonly organizations: OrganizationsService,
    private readonly sites: SitesService,
    private readonly rollups: RollupsService,
  ) {}

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

  /** The rollup queries of a range, side by side; once per unit system, time zone and day zone among the devices (almost always one). */
  private async read(q: store.RangeQuery, hourlyPercentiles = false): Promise<Rollups> {
    // Statistics read the replica: up to the lag threshold behind (read-your-writes aside).
    const db = this.ctx.replica.db;
    // Every batch committed before this read is in the rollups.
    await this.rollups.settle('events');
    const groupOf = (d: store.SubjectDevice) => `${d.units} ${d.timezone} ${d.dayZone}`;
    const groups = [...new Set(q.devices.map(groupOf))].map((key) => {
      const devices = q.devices.filter((d) => groupOf(d) === key);
      return { units: devices[0]!.units, q: { ...q, devices } };
    });
    const parts = await Promise.all(groups.map(async ({ units, q: group }) => {
      const [volume, bins, excess, hourBins] = await Promise.all([
        store.speedVolume(db, group),
        store.speedBins(db, group),
        store.speedExcess(db, group),
        hourlyPercentiles ? store.hourOfDayBins(db, group) : [],
      ]);
      const tag = <R>(rows: R[]) => rows.map((row) => ({ ...row, units }));
      return { volume: [{ ...volume, units }], bins: tag(bins), excess: tag(excess), hourBins: tag(hourBins) };
    }));
    return {
      volume: parts.flatMap((p) => p.volume),
      bins: parts.flatMap((p) => p.bins),
      excess: parts.flatMap((p) => p.excess),
      hourBins: hourlyPercentiles ? parts.flatMap((p) => p.hourBins) : undefined,
    };
  }

  async statistics(scope: Scope, query: StatisticsQuery): Promise<TrafficStatistics> {
    const subject = await this.subject(scope, query);
    const range = resolveRange(query, subject.timezone);
    const weekdaysOnly = query.weekdaysOnly ?? false;
    const rollups = await this.read({ devices: subject.devices, from: range.from, to: range.to, weekdaysOnly }, query.hourlyPercentiles ?? false);
    const units = subject.units;
    const core = coreOf(rollups, units);
    const speeding = speedingFigures(core.excess, core.moments.count);
    const trend = trendOf(rollups, units, range, subject.timezone, weekdaysOnly);
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
      ...patternsOf(rollups, units),
      daily: trend.daily,
      study: { sampleSize: core.moments.count, fullWeekdays: trend.fullWeekdays, covers24HourWeekday: trend.fullWeekdays > 0 },
    };
  }

  /** Two periods of the same subject: each figure before and after, and whether the mean and 85th percentile really changed. */
  async compare(scope: Scope, query: ComparisonQuery): Promise<TrafficComparison> {
    const subject = await this.subject(scope, query);
    const before = resolveRange({ from: query.beforeFrom, to: query.beforeTo }, subject.timezone);
    const after = resolveRange({ from: query.afterFrom, to: query.afterTo }, subject.timezone);
    const weekdaysOnly = query.weekdaysOnly ?? false;
    const units = subject.units;
    const [a, b] = await Promise.all([before, after].map(async (range) => coreOf(await this.read({ devices: subject.devices, ...range, weekdaysOnly }), units)));
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

  /**
   * Re-keys the daily rollups of devices whose time zone changed into their new zone (see
   * store.rekeyDays); statistics are exact meanwhile, reading those devices' days in the old zone.
   */
  async rekeyDayZones(signal?: AbortSignal): Promise<number> {
    const started = Date.now();
    let done = 0;
    // In batches until none is left or the run has taken its share of time (an organization changing zone
    // re-keys all its devices; the next run goes on), or its job lease is lost (another process goes on).
    while (Date.now() - started < REKEY_SECONDS * 1000 && !signal?.aborted) {
      const stale = await store.staleDayZones(this.ctx.db, REKEY_DEVICES);
      for (const { deviceId, zone } of stale) await store.rekeyDays(this.ctx.db, deviceId, zone);
      done += stale.length;
      if (stale.length < REKEY_DEVICES) break;
    }
    return done;
  }

  /**
   * Rebuilds a device's traffic rollups from its events (see store.rebuildTrafficRollups): a backfill of
   * data stored before migration 0006. Pending batches are folded first; run it on a range that is not
   * receiving events, or a batch folded after the rebuild read its events would be counted twice.
   */
  async rebuildRollups(deviceId: string, from: Date, to: Date): Promise<void> {
    await this.rollups.settle('events');
    await store.rebuildTrafficRollups(this.ctx.db, deviceId, from, to);
  }
}
