import type { AppContext } from '../core/context.js';
import * as partitions from '../core/db/partitions.js';
import type { MonthPartition, PartitionedTable } from '../core/db/partitions.js';
import { thumbnailKey } from '../events/photos.js';
import type { OrganizationsService } from '../organizations/service.js';
import * as store from './store.js';

const CHUNK = 5_000;
// One run deletes at most this many rows per organization and table, so a first run after enabling
// retention on years of data does not hold the database for long; the next runs continue.
const MAX_PER_RUN = 200_000;
const DAY_MS = 86_400_000;

export interface RetentionReport {
  droppedPartitions: string[];
  deletedEvents: number;
  deletedTelemetry: number;
  deletedPhotos: number;
}

interface OrganizationRetention {
  id: string;
  cutoff: Date;
}

/**
 * Applies platform retention (RETENTION_DAYS: whole months, and chunked deletes in the DEFAULT
 * partition) and each organization's own retention (its month sub-partitions once the whole month is
 * past its cutoff; chunked deletes for its rows in shared partitions). See docs/retention.md.
 */
export class RetentionService {
  constructor(private readonly ctx: AppContext, private readonly organizations: OrganizationsService) {}

  async run(now = new Date()): Promise<RetentionReport> {
    const report: RetentionReport = { droppedPartitions: [], deletedEvents: 0, deletedTelemetry: 0, deletedPhotos: 0 };
    const organizations = (await this.organizations.organizationsWithRetention()).map((org) => ({
      id: org.id,
      cutoff: new Date(now.getTime() - org.retention_days! * DAY_MS),
    }));
    for (const table of ['events', 'telemetry'] as const) {
      let months = await partitions.monthPartitions(this.ctx.db, table);
      months = await this.applyPlatformRetention(table, months, now, report);
      await this.layOutComingMonths(table, months, organizations, now);
      for (const org of organizations) {
        await this.dropOrganizationMonths(table, months, org, report);
        await this.deleteFromSharedPartitions(table, months, org, report);
      }
    }
    await this.deleteOldTypedValues(organizations, now, report);
    if (report.droppedPartitions.length || report.deletedEvents || report.deletedTelemetry) this.ctx.logger.info(report, 'retention applied');
    return report;
  }

  /** Drops the months past RETENTION_DAYS and deletes the older rows of the DEFAULT partition; returns the months left. */
  private async applyPlatformRetention(table: PartitionedTable, months: MonthPartition[], now: Date, report: RetentionReport) {
    const days = this.ctx.config.retentionDays;
    if (days === undefined) return months;
    const cutoff = now.getTime() - days * DAY_MS;
    for (const month of months.filter((m) => m.to.getTime() <= cutoff)) await this.drop(table, table, month.name, report);
    await this.deleteOldRows(table, [partitions.defaultPartitionName(table)], null, new Date(cutoff), report);
    return months.filter((m) => m.to.getTime() > cutoff);
  }

  /**
   * Months that have not begun get a sub-partition for every organization with its own retention, so
   * that organizations which set retention recently drop partitions from next month on. A plain month
   * created ahead before migration 0018 is laid out anew while it is still empty.
   */
  private async layOutComingMonths(table: PartitionedTable, months: MonthPartition[], organizations: OrganizationRetention[], now: Date) {
    for (const month of months.filter((m) => m.from > now)) {
      if (!month.byOrganization) {
        if (await partitions.relayoutEmptyMonth(this.ctx.db, table, month)) this.ctx.logger.info({ partition: month.name }, 'month partition laid out by organization');
        continue;
      }
      for (const org of organizations.filter((o) => !month.organizations.has(o.id))) {
        if (await partitions.addOrganizationPartition(this.ctx.db, month, org.id)) {
          month.organizations.set(org.id, partitions.organizationPartitionName(month.name, org.id));
        }
      }
    }
  }

  private async dropOrganizationMonths(table: PartitionedTable, months: MonthPartition[], org: OrganizationRetention, report: RetentionReport) {
    for (const month of months) {
      const own = month.organizations.get(org.id);
      if (!own || month.to > org.cutoff) continue;
      await this.drop(table, month.name, own, report);
      month.organizations.delete(org.id);
    }
  }

  /** The organization's old rows that share a table with other organizations' rows (the DEFAULT partition's too) are deleted in chunks. */
  private async deleteFromSharedPartitions(table: PartitionedTable, months: MonthPartition[], org: OrganizationRetention, report: RetentionReport) {
    const shared = months.filter((m) => m.from < org.cutoff && !m.organizations.has(org.id)).map(partitions.sharedPartitionOf);
    await this.deleteOldRows(table, [partitions.defaultPartitionName(table), ...shared], org.id, org.cutoff, report);
  }

  /** Deletes the rows before `cutoff` of one organization (null: of all) from shared partitions, in chunks, at most MAX_PER_RUN. */
  private async deleteOldRows(table: PartitionedTable, shared: string[], orgId: string | null, cutoff: Date, report: RetentionReport) {
    let done = 0;
    for (const partition of shared) {
      while (done < MAX_PER_RUN) {
        let deleted: number;
        if (table === 'events') {
          const chunk = await store.deleteOldEvents(this.ctx.db, partition, orgId, cutoff, CHUNK);
          deleted = chunk.deleted;
          report.deletedEvents += deleted;
          report.deletedPhotos += await this.deletePhotos(chunk.photoKeys);
        } else {
          deleted = await store.deleteOldTelemetry(this.ctx.db, partition, orgId, cutoff, CHUNK);
          report.deletedTelemetry += deleted;
        }
        done += deleted;
        if (deleted < CHUNK) break;
      }
    }
  }

  /**
   * Typed telemetry values (strings, JSON: one table, not partitioned, as few devices send them) go by age
   * in chunks: older than RETENTION_DAYS for everyone, older than its own retention for each organization.
   */
  private async deleteOldTypedValues(organizations: OrganizationRetention[], now: Date, report: RetentionReport) {
    const days = this.ctx.config.retentionDays;
    const cutoffs: { orgId: string | null; cutoff: Date }[] = [
      ...(days === undefined ? [] : [{ orgId: null, cutoff: new Date(now.getTime() - days * DAY_MS) }]),
      ...organizations.map((org) => ({ orgId: org.id, cutoff: org.cutoff })),
    ];
    for (const { orgId, cutoff } of cutoffs) {
      for (let done = 0; done < MAX_PER_RUN;) {
        const deleted = await store.deleteOldTelemetryValues(this.ctx.db, orgId, cutoff, CHUNK);
        report.deletedTelemetry += deleted;
        done += deleted;
        if (deleted < CHUNK) break;
      }
    }
  }

  /** Drops a partition (a month, or an organization's part of one) after deleting its events' photos. */
  private async drop(table: PartitionedTable, parent: string, partition: string, report: RetentionReport) {
    if (table === 'events') report.deletedPhotos += await this.deletePhotos(await store.partitionPhotoKeys(this.ctx.db, partition));
    await partitions.dropPartition(this.ctx.db, parent, partition);
    report.droppedPartitions.push(partition);
  }

  private async deletePhotos(keys: string[]): Promise<number> {
    for (const key of keys) {
      await this.ctx.media.delete(key);
      await this.ctx.media.delete(thumbnailKey(key));
    }
    return keys.length;
  }
}
