import type { AppContext } from '../core/context.js';
import { thumbnailKey } from '../events/photos.js';
import type { OrganizationsService } from '../organizations/service.js';
import * as store from './store.js';

const CHUNK = 5_000;
// One run deletes at most this many rows per organization and table, so a first run after enabling
// retention on years of data does not hold the database for long; the next runs continue.
const MAX_PER_RUN = 200_000;

export class RetentionService {
  constructor(private readonly ctx: AppContext, private readonly organizations: OrganizationsService) {}

  /** Applies platform retention (whole partitions) and each organization's retention (its rows). */
  async run(now = new Date()) {
    const report = { droppedPartitions: [] as string[], deletedEvents: 0, deletedTelemetry: 0, deletedPhotos: 0 };
    const platformDays = this.ctx.config.retentionDays;
    if (platformDays !== undefined) {
      const cutoff = new Date(now.getTime() - platformDays * 86_400_000);
      for (const table of ['events', 'telemetry'] as const) {
        for (const partition of await store.partitionsEndingBefore(this.ctx.db, table, cutoff)) {
          if (table === 'events') report.deletedPhotos += await this.deletePhotos(await store.partitionPhotoKeys(this.ctx.db, partition));
          await store.dropPartition(this.ctx.db, table, partition);
          report.droppedPartitions.push(partition);
        }
      }
    }
    for (const org of await this.organizations.organizationsWithRetention()) {
      const cutoff = new Date(now.getTime() - org.retention_days! * 86_400_000);
      for (let done = 0; done < MAX_PER_RUN; ) {
        const chunk = await store.deleteOrganizationEvents(this.ctx.db, org.id, cutoff, CHUNK);
        report.deletedEvents += chunk.deleted;
        report.deletedPhotos += await this.deletePhotos(chunk.photoKeys);
        done += chunk.deleted;
        if (chunk.deleted < CHUNK) break;
      }
      for (let done = 0; done < MAX_PER_RUN; ) {
        const deleted = await store.deleteOrganizationTelemetry(this.ctx.db, org.id, cutoff, CHUNK);
        report.deletedTelemetry += deleted;
        done += deleted;
        if (deleted < CHUNK) break;
      }
    }
    if (report.droppedPartitions.length || report.deletedEvents || report.deletedTelemetry) this.ctx.logger.info(report, 'retention applied');
    return report;
  }

  private async deletePhotos(keys: string[]): Promise<number> {
    for (const key of keys) {
      await this.ctx.media.delete(key);
      await this.ctx.media.delete(thumbnailKey(key));
    }
    return keys.length;
  }
}
