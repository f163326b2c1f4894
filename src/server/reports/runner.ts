import sharp from 'sharp';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { csvField, csvText } from '../core/csv.js';
import type { DevicesService } from '../devices/service.js';
import type { MaintenanceService } from '../maintenance/service.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { RollupsService } from '../rollups/service.js';
import type { SitesService } from '../sites/service.js';
import type { TrafficService } from '../traffic/service.js';
import { complianceCsv, excursionsOf, renderCompliancePdf, safeRangeOf, type ComplianceReport, type ComplianceUnit } from './compliance.js';
import { mapImage } from './map-image.js';
import { siteSafetyFiles } from './site-safety-run.js';
import { renderSpeedStudyPdf, speedStudyFiguresCsv, type SpeedStudy } from './speed-study.js';
import * as store from './store.js';

export const REPORT_PROGRESS = 'report.progress';
const LEASE_SECONDS = 120;
const MAX_ATTEMPTS = 3;
const EVENTS_BATCH = 20_000;
const TOP_SPEEDERS = 10;

export interface ReportParameters {
  deviceId?: string;
  siteId?: string;
  from: string;
  to: string;
  units?: 'mph' | 'kmh';
  notes?: string;
}

interface Files {
  pdf: Buffer;
  csv: Buffer;
  eventsCsv: Buffer | null;
}

type Progress = (percent: number) => Promise<void>;

/**
 * Generates queued reports in the background. Each run claims one report row (FOR UPDATE SKIP LOCKED, with a
 * lease), writes its files to media storage, and publishes its progress on the bus so the console can show it.
 */
export class ReportRunner {
  constructor(
    private readonly ctx: AppContext,
    private readonly services: { traffic: TrafficService; devices: DevicesService; sites: SitesService; organizations: OrganizationsService; rollups: RollupsService; maintenance: MaintenanceService },
  ) {}

  /** Generates waiting reports until none is left; returns how many were finished (done or failed). */
  async runQueued(): Promise<number> {
    for (const abandoned of await store.failAbandoned(this.ctx.db, MAX_ATTEMPTS)) {
      await this.announce({ id: abandoned.id, org_id: abandoned.org_id, site_id: abandoned.site_id }, 'failed', 0);
    }
    let finished = 0;
    for (;;) {
      const report = await store.claimNext(this.ctx.db, LEASE_SECONDS, MAX_ATTEMPTS);
      if (!report) return finished;
      await this.run(report);
      finished += 1;
    }
  }

  private async run(report: store.ReportRow): Promise<void> {
    await this.announce(report, 'running', 0);
    const progress: Progress = async (percent) => {
      const value = Math.max(0, Math.min(99, Math.round(percent)));
      await store.setProgress(this.ctx.db, report.id, value, LEASE_SECONDS);
      await this.announce(report, 'running', value);
    };
    try {
      const files = report.kind === 'speed_study' ? await this.speedStudy(report, progress)
        : report.kind === 'site_safety' ? { ...await siteSafetyFiles(this.ctx, this.services, report, this.scopeOf(report), progress), eventsCsv: null }
        : await this.compliance(report, progress);
      const base = `reports/${report.org_id}/${report.id}`;
      await this.ctx.media.put(`${base}/report.pdf`, files.pdf, 'application/pdf');
      await this.ctx.media.put(`${base}/figures.csv`, files.csv, 'text/csv');
      if (files.eventsCsv) await this.ctx.media.put(`${base}/events.csv`, files.eventsCsv, 'text/csv');
      const size = files.pdf.length + files.csv.length + (files.eventsCsv?.length ?? 0);
      const keys = { pdfKey: `${base}/report.pdf`, csvKey: `${base}/figures.csv`, eventsCsvKey: files.eventsCsv ? `${base}/events.csv` : null };
      const finished = await store.finish(this.ctx.db, report.id, { ...keys, size });
      // Deleted while it ran: nothing refers to the files any more.
      if (finished) {
        await this.announce(report, 'done', 100);
      } else {
        for (const key of Object.values(keys)) if (key) await this.ctx.media.delete(key);
      }
    } catch (error) {
      this.ctx.logger.error({ err: error, reportId: report.id }, 'report failed');
      const message = error instanceof Error ? error.message : String(error);
      await store.fail(this.ctx.db, report.id, message);
      await this.announce(report, 'failed', 0);
    }
  }

  private announce(report: Pick<store.ReportRow, 'id' | 'org_id' | 'site_id'>, status: store.ReportRow['status'], progress: number): Promise<void> {
    return this.ctx.bus.publish({ type: REPORT_PROGRESS, orgId: report.org_id, siteId: report.site_id, requires: 'report.read', data: { id: report.id, status, progress } });
  }

  /** The requester's view, so the report holds exactly what they could see when they asked for it. */
  private scopeOf(report: store.ReportRow): Scope {
    return { orgId: report.org_id, userId: report.requested_by ?? '', role: 'viewer', siteIds: report.requester_site_ids };
  }

  private async speedStudy(report: store.ReportRow, progress: Progress): Promise<Files> {
    const p = report.parameters as unknown as ReportParameters;
    const scope = this.scopeOf(report);
    const stats = await this.services.traffic.statistics(scope, { deviceId: p.deviceId, siteId: p.siteId, from: p.from, to: p.to, units: p.units, hourlyPercentiles: true });
    await progress(15);
    const { location, devices } = await this.studyLocation(scope, p);
    const from = new Date(stats.from);
    const to = new Date(stats.to);
    const deviceIds = await this.subjectDeviceIds(scope, p);
    const photosAllowed = await store.includePhotos(this.ctx.db, report.org_id);
    // A report's data reads the replica (at most the lag threshold behind); its own bookkeeping the primary.
    const top = stats.empty ? [] : await store.topSpeeders(this.ctx.replica.db, deviceIds, from, to, TOP_SPEEDERS);
    const topSpeeders = await Promise.all(top.map(async (e) => ({
      ts: e.ts, device: e.device_name, speed: e.speed, limit: e.speed_limit,
      photo: photosAllowed && e.photo_key ? await this.thumbnail(e.photo_key) : null,
    })));
    const { mapTiles, reportMapTimeoutMs } = this.ctx.config;
    const map = location.lat !== null && location.lon !== null
      ? await mapImage({ ...mapTiles, timeoutMs: reportMapTimeoutMs }, location.lat, location.lon, this.ctx.logger)
      : null;
    await progress(25);
    const { locale } = await this.services.organizations.get(report.org_id);
    const study: SpeedStudy = {
      title: report.title, stats, location, devices, notes: p.notes ?? null, requestedBy: report.requested_by_label,
      generatedAt: new Date(), locale, topSpeeders, photosAllowed, map,
    };
    const pdf = await renderSpeedStudyPdf(study);
    await progress(40);
    const csv = Buffer.from(csvText(speedStudyFiguresCsv(study)));
    const eventsCsv = await this.eventsCsv(deviceIds, from, to, stats.summary.count, (share) => progress(40 + share * 58));
    return { pdf, csv, eventsCsv };
  }

  /** Every speed event of the range as CSV, read in batches from one cursor; progress follows the rows written. */
  private async eventsCsv(deviceIds: string[], from: Date, to: Date, expected: number, progress: (share: number) => Promise<void>): Promise<Buffer> {
    const parts: Buffer[] = [Buffer.from(csvText([['event_id', 'ts_utc', 'device_id', 'device', 'kind', 'speed', 'speed_limit', 'over_limit']]))];
    let written = 0;
    await store.eachSpeedEventBatch(this.ctx.replica.db, deviceIds, from, to, EVENTS_BATCH, async (batch) => {
      // Written by hand rather than through csv-stringify: a million rows is the common case here, and only the
      // device name and kind are text (csvField neutralises and quotes them as every other CSV cell is).
      parts.push(Buffer.from(batch.map((e) => `${e.id},${e.ts.toISOString()},${e.device_id},${csvField(e.device_name)},${csvField(e.kind)},${e.speed},${e.speed_limit ?? ''},${e.speed_limit === null ? '' : e.speed > e.speed_limit ? 'yes' : 'no'}\n`).join('')));
      written += batch.length;
      await progress(expected > 0 ? Math.min(1, written / expected) : 1);
    });
    return Buffer.concat(parts);
  }

  private async thumbnail(key: string): Promise<Buffer | null> {
    try {
      const photo = await this.ctx.media.get(key);
      return photo ? await sharp(photo).resize(320, 320, { fit: 'inside' }).jpeg({ quality: 70 }).toBuffer() : null;
    } catch (error) {
      this.ctx.logger.warn({ err: error, key }, 'report: photo unreadable, left out');
      return null;
    }
  }

  private async subjectDeviceIds(scope: Scope, p: ReportParameters): Promise<string[]> {
    if (p.deviceId) return [p.deviceId];
    const devices = await this.services.devices.list(scope, { siteId: p.siteId, limit: 200 });
    return devices.items.map((d) => d.id);
  }

  private async studyLocation(scope: Scope, p: ReportParameters): Promise<Pick<SpeedStudy, 'location' | 'devices'>> {
    if (p.deviceId) {
      const device = await this.services.devices.get(scope, p.deviceId);
      const site = device.site_id ? await this.services.sites.get(scope, device.site_id) : null;
      // A radar placed on the map has its own position; its site's address is then the site's, not the radar's.
      const own = device.lat !== null && device.lon !== null;
      const ownAddress = typeof device.settings?.address === 'string' && device.settings.address.trim() ? device.settings.address.trim() : null;
      return {
        location: {
          name: device.name, site: site?.name ?? null, lat: own ? device.lat : site?.lat ?? null, lon: own ? device.lon : site?.lon ?? null,
          positionOf: own ? 'device' : site?.lat != null ? 'site' : null,
          address: ownAddress ?? site?.address ?? null, addressOf: ownAddress ? 'device' : site?.address ? 'site' : null,
        },
        devices: [{ name: device.name, serial: device.serial, speedLimit: device.speed_limit }],
      };
    }
    const site = await this.services.sites.get(scope, p.siteId!);
    const devices = await this.services.devices.list(scope, { siteId: site.id, kind: 'speed_radar', limit: 200 });
    return {
      location: { name: site.name, site: site.name, lat: site.lat, lon: site.lon, positionOf: 'site', address: site.address, addressOf: 'site' },
      devices: devices.items.map((d) => ({ name: d.name, serial: d.serial, speedLimit: d.speed_limit })),
    };
  }

  /** The unit's maintenance performed in the period, oldest first: its history is read newest first until before the period. */
  private async maintenanceDone(scope: Scope, deviceId: string, from: Date, to: Date): Promise<ComplianceUnit['maintenance']> {
    const done: NonNullable<ComplianceUnit['maintenance']> = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.services.maintenance.history(scope, deviceId, { limit: 200, cursor });
      for (const record of page.items) {
        const at = new Date(record.performedAt);
        if (at >= from && at < to) done.push({ date: record.performedAt, type: record.type, technician: record.performedBy, description: record.description });
      }
      const oldest = page.items.at(-1);
      if (!page.nextCursor || !oldest || new Date(oldest.performedAt) < from) return done.reverse();
      cursor = page.nextCursor;
    }
  }

  private async compliance(report: store.ReportRow, progress: Progress): Promise<Files> {
    const p = report.parameters as unknown as ReportParameters;
    const scope = this.scopeOf(report);
    await this.services.rollups.settle('equipment');
    const units = await store.refrigerationUnits(this.ctx.replica.db, scope, { deviceId: p.deviceId, siteId: p.siteId });
    const org = await this.services.organizations.get(report.org_id);
    const timezone = units[0]?.timezone ?? org.timezone;
    const from = new Date(p.from);
    const to = new Date(p.to);
    const alerts = units.length ? await store.periodAlerts(this.ctx.replica.db, report.org_id, units.map((u) => u.id), from, to) : [];
    const result: ComplianceReport = {
      title: report.title, subject: p.siteId ? (units[0]?.site_name ?? 'Site') : (units[0]?.name ?? 'Unit'), timezone, from, to,
      requestedBy: report.requested_by_label, generatedAt: new Date(), locale: org.locale, units: [],
    };
    for (const [i, unit] of units.entries()) {
      const safeRange = safeRangeOf(unit.settings);
      const readings = safeRange ? await store.temperatureReadings(this.ctx.replica.db, unit.id, from, to) : [];
      result.units.push({
        id: unit.id, name: unit.name, serial: unit.serial, site: unit.site_name, safeRange,
        days: await store.dailyTemperatures(this.ctx.replica.db, unit.id, unit.timezone, from, to),
        excursions: safeRange ? excursionsOf(readings, safeRange, from, to) : [],
        alerts: alerts.filter((a) => a.device_id === unit.id),
        maintenance: await this.maintenanceDone(scope, unit.id, from, to),
      });
      await progress(((i + 1) / units.length) * 80);
    }
    const pdf = await renderCompliancePdf(result);
    return { pdf, csv: Buffer.from(csvText(complianceCsv(result))), eventsCsv: null };
  }
}
